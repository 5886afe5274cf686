// @moco-robust/pretext-jigsaw — being written (issue 9).
export {};
