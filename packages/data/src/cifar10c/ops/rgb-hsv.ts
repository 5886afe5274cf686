/**
 * scikit-image 0.19 `rgb2hsv` of one pixel (float64 R, G, B in [0, 1]) into `out[offset..offset+2]`
 * as H, S, V in [0, 1]: ties for the maximum resolve blue over green over red, H wraps with NumPy's
 * float remainder, and H = S = 0 for grey pixels (SPEC B6).
 */
export function rgbToHsvPixel(red: number, green: number, blue: number, out: Float64Array, offset: number): void {
  const value = red > green ? (red > blue ? red : blue) : green > blue ? green : blue;
  const minimum = red < green ? (red < blue ? red : blue) : green < blue ? green : blue;
  const delta = value - minimum;
  out[offset + 2] = value;
  if (delta === 0) {
    out[offset] = 0;
    out[offset + 1] = 0;
    return;
  }
  out[offset + 1] = delta / value;
  let sector = 0;
  // evaluated red, then green, then blue: a later match overwrites an earlier one
  if (red === value) sector = (green - blue) / delta;
  if (green === value) sector = 2 + (blue - red) / delta;
  if (blue === value) sector = 4 + (red - green) / delta;
  let hue = (sector / 6) % 1;
  if (hue < 0) hue += 1; // NumPy's remainder takes the divisor's sign (may give exactly 1.0)
  out[offset] = hue;
}

/**
 * scikit-image 0.19 `hsv2rgb` of one pixel (H, S, V in [0, 1]) into `out[offset..offset+2]` as
 * float64 R, G, B (SPEC B6).
 */
export function hsvToRgbPixel(hue: number, saturation: number, value: number, out: Float64Array, offset: number): void {
  const sextant = Math.floor(hue * 6);
  const f = hue * 6 - sextant;
  const p = value * (1 - saturation);
  const q = value * (1 - f * saturation);
  const t = value * (1 - (1 - f) * saturation);
  switch (((sextant % 6) + 6) % 6) {
    case 0:
      out[offset] = value;
      out[offset + 1] = t;
      out[offset + 2] = p;
      break;
    case 1:
      out[offset] = q;
      out[offset + 1] = value;
      out[offset + 2] = p;
      break;
    case 2:
      out[offset] = p;
      out[offset + 1] = value;
      out[offset + 2] = t;
      break;
    case 3:
      out[offset] = p;
      out[offset + 1] = q;
      out[offset + 2] = value;
      break;
    case 4:
      out[offset] = t;
      out[offset + 1] = p;
      out[offset + 2] = value;
      break;
    default:
      out[offset] = value;
      out[offset + 1] = p;
      out[offset + 2] = q;
  }
}
