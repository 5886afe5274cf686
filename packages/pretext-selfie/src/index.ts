// @moco-robust/pretext-selfie — being written (issue 9).
export {};
