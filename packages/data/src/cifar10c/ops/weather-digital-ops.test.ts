import { describe, expect, it } from 'vitest';
import { jpegQuantTables, jpegRoundTrip } from './jpeg';
import { canny } from './opencv-canny';
import { distanceTransform5x5 } from './opencv-distance-transform';
import { equalizeHist, filter2D3x3Uint8 } from './opencv-filters';
import { getAffineTransform, warpAffineBilinear } from './opencv-warp-affine';
import { pilBoxResize } from './pil-box-resize';
import { plasmaFractal } from './plasma-fractal';
import { hsvToRgbPixel, rgbToHsvPixel } from './rgb-hsv';

describe('JPEG (libjpeg-turbo arithmetic)', () => {
  it('scales the IJG tables by quality like jpeg_set_quality', () => {
    expect(Array.from(jpegQuantTables(50).luminance.subarray(0, 4))).toEqual([16, 11, 10, 16]);
    expect(Array.from(jpegQuantTables(80).luminance.subarray(0, 4))).toEqual([6, 4, 4, 6]); // scale 40
    expect(jpegQuantTables(40).chrominance[63]).toBe(124); // 99 · 125 / 100
    expect(() => jpegQuantTables(0)).toThrow(/'quality'/);
  });
  it('keeps a flat grey image exactly and a flat colour within a level', () => {
    expect(jpegRoundTrip(new Uint8Array(32 * 32 * 3).fill(128), 32, 32, 40)).toEqual(
      new Uint8Array(32 * 32 * 3).fill(128),
    );
    const colour = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => [200, 40, 90][i % 3]);
    const out = jpegRoundTrip(colour, 32, 32, 80);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - colour[i])).toBeLessThanOrEqual(1);
    expect(() => jpegRoundTrip(new Uint8Array(30 * 30 * 3), 30, 30, 80)).toThrow(/multiples of 16/);
  });
});

describe('OpenCV pieces', () => {
  it('distanceTransform 5×5 uses the 1, 1.4, 2.1969 chamfer in 16.16 fixed point', () => {
    const image = new Uint8Array(32 * 32).fill(255);
    image[16 * 32 + 16] = 0;
    const d = distanceTransform5x5(image, 32, 32);
    expect(d[16 * 32 + 16]).toBe(0);
    expect(d[16 * 32 + 17]).toBe(1);
    expect(d[17 * 32 + 17]).toBe(91750 / 65536);
    expect(d[18 * 32 + 17]).toBe(143976 / 65536);
    expect(d[16 * 32 + 18]).toBe(2);
  });
  it('equalizeHist maps the first bin to 0 and rounds ties to even', () => {
    expect(Array.from(equalizeHist(Uint8Array.of(0, 0, 5, 9)))).toEqual([0, 0, 128, 255]); // 127.5 → 128
    expect(Array.from(equalizeHist(Uint8Array.of(7, 7, 7)))).toEqual([7, 7, 7]);
  });
  it('Canny keeps one column of a vertical step (m > left, m ≥ right)', () => {
    const image = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i % 32 < 16 ? 0 : 200));
    const edges = canny(image, 32, 32, 50, 150);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) expect(edges[y * 32 + x]).toBe(x === 15 ? 255 : 0);
    }
  });
  it('filter2D correlates (does not flip) and saturates', () => {
    const image = new Uint8Array(9 * 9);
    image[4 * 9 + 4] = 100;
    const out = filter2D3x3Uint8(image, 9, 9, [-2, -1, 0, -1, 1, 1, 0, 1, 2]);
    expect(out[3 * 9 + 3]).toBe(200); // the pixel up-left sees the impulse through the kernel's bottom-right tap
    expect(out[5 * 9 + 5]).toBe(0); // −200 saturates to 0
  });
  it('getAffineTransform solves the 3-point map; warpAffine with the identity copies the image', () => {
    const points = [26, 26, 26, 6, 6, 6];
    const shifted = points.map((v, i) => v + (i % 2 === 0 ? 1 : -2));
    expect(Array.from(getAffineTransform(points, shifted)).map((v) => Math.round(v * 1e9) / 1e9 + 0)).toEqual([
      1, 0, 1, 0, 1, -2,
    ]);
    const image = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => Math.fround((i % 97) / 97));
    expect(warpAffineBilinear(image, 32, 32, 3, getAffineTransform(points, points))).toEqual(image);
  });
});

describe('Pillow BOX resize', () => {
  it('averages whole pixels when shrinking and repeats pixels when enlarging', () => {
    const image = Uint8Array.of(0, 100, 50, 255); // 2×2 grey
    // rows round first: 50 and 153 (152.5), then 101.5 → 102
    expect(Array.from(pilBoxResize(image, 2, 2, 1, 1, 1))).toEqual([102]);
    expect(Array.from(pilBoxResize(Uint8Array.of(10, 20), 1, 2, 1, 1, 4))).toEqual([10, 10, 20, 20]);
    expect(pilBoxResize(image, 2, 2, 1, 2, 2)).toEqual(image);
  });
});

describe('scikit-image HSV', () => {
  it('converts primaries and round-trips', () => {
    const hsv = new Float64Array(3);
    rgbToHsvPixel(1, 0, 0, hsv, 0);
    expect(Array.from(hsv)).toEqual([0, 1, 1]);
    rgbToHsvPixel(0, 0, 1, hsv, 0);
    expect(hsv[0]).toBeCloseTo(2 / 3, 15);
    rgbToHsvPixel(0.2, 0.2, 0.2, hsv, 0);
    expect(Array.from(hsv)).toEqual([0, 0, 0.2]);
    const rgb = new Float64Array(3);
    for (const [r, g, b] of [
      [0.1, 0.7, 0.3],
      [0.9, 0.2, 0.5],
      [0.3, 0.3, 0.8],
      [1, 1, 0],
    ]) {
      rgbToHsvPixel(r, g, b, hsv, 0);
      hsvToRgbPixel(hsv[0], hsv[1], hsv[2], rgb, 0);
      expect(Math.max(Math.abs(rgb[0] - r), Math.abs(rgb[1] - g), Math.abs(rgb[2] - b))).toBeLessThan(1e-12);
    }
  });
});

describe('plasma fractal', () => {
  it('uses 1023 uniform draws and spans exactly [0, 1]', () => {
    let draws = 0;
    let state = 12345;
    const map = plasmaFractal(2, (low, high) => {
      draws++;
      state = (state * 1103515245 + 12345) % 2147483648;
      return low + ((high - low) * state) / 2147483648;
    });
    expect(draws).toBe(1023);
    expect(Math.min(...map)).toBe(0);
    expect(Math.max(...map)).toBe(1);
  });
});
