// @moco-robust/pretext-rocl — being written (issue 9).
export {};
