// @moco-robust/pretext-rotation — being written (issue 9).
export {};
