import { ALL_CORRUPTIONS, type CorruptionName } from '@moco-robust/data';
import { PAPER_TABLE_1, type RunReport } from './run-report';

/** One series of a grouped bar chart: a value in [0, 1] (or undefined: no bar) per category. */
export interface BarSeries {
  name: string;
  values: Array<number | undefined>;
  /** Drawn hatched and marked "quoted" in the legend (numbers from a paper, not measured here). */
  quoted?: boolean;
  /** Half-width of an interval around each value (same units), drawn as a whisker; undefined: none. */
  errors?: Array<number | undefined>;
}

/** Options of {@link groupedBarChart}. */
export interface BarChartOptions {
  title: string;
  categories: string[];
  series: BarSeries[];
  /** Axis label; default `accuracy (%)`. */
  yLabel?: string;
  /** Print each bar's value above it; default when bars are wide enough and there are at most 24. */
  labels?: boolean;
}

/** Okabe–Ito colours: distinguishable with colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/**
 * How series `i` is filled: the colours in turn, solid for the first eight series, then striped, then dotted, so that
 * no two of up to 24 series look alike. Returns the fill and, for a pattern, its `<pattern>` definition.
 */
function seriesFill(i: number): { colour: string; fill: string; definition?: string } {
  const colour = COLOURS[i % COLOURS.length]!;
  const style = Math.floor(i / COLOURS.length) % 3;
  if (style === 0) return { colour, fill: colour };
  const id = `series-${i}`;
  const mark =
    style === 1 ? `<rect width="3" height="6" fill="${colour}"/>` : `<circle cx="3" cy="3" r="1.8" fill="${colour}"/>`;
  const rotate = style === 1 ? ' patternTransform="rotate(-45)"' : '';
  return {
    colour,
    fill: `url(#${id})`,
    definition:
      `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse"${rotate}>` +
      `<rect width="6" height="6" fill="#ffffff"/>${mark}</pattern>`,
  };
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A grouped bar chart as a standalone SVG document (values are fractions, shown as %): one group per
 * category, one bar per series (with a whisker where the series gives an interval), a y grid every 20 %, rotated
 * category labels and a legend.
 */
export function groupedBarChart(options: BarChartOptions): string {
  const { categories, series } = options;
  const barWidth = Math.max(6, Math.min(28, Math.floor(120 / Math.max(1, series.length))));
  const groupWidth = series.length * barWidth + 14;
  const left = 56;
  const width0 = left + categories.length * (series.length * barWidth + 14) + 24;
  // legend columns as wide as the longest entry, at most four across the first 1,000 pixels: compact, above the plot
  const legendItem = 24 + 6.6 * Math.max(8, ...series.map((s) => s.name.length + (s.quoted ? 9 : 0)));
  const legendColumns = Math.max(
    1,
    Math.min(4, Math.floor((Math.min(1000, Math.max(640, width0)) - left) / legendItem)),
  );
  const top = 56 + 18 * Math.ceil(series.length / legendColumns);
  const plotHeight = 240;
  const labelSpace = 8 + 6.2 * Math.max(4, ...categories.map((c) => c.length)) * Math.SQRT1_2;
  // wide enough for the plot, the title (15 px bold: ≈ 8.6 px a character) and the legend's columns
  const width = Math.ceil(
    Math.max(640, width0, left + 8.6 * options.title.length + 12, left + legendColumns * legendItem),
  );
  const height = top + plotHeight + labelSpace + 16;
  const y = (value: number) => top + plotHeight * (1 - Math.min(1, Math.max(0, value)));
  const showLabels = options.labels ?? (barWidth >= 22 && categories.length * series.length <= 24);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.round(height)}" viewBox="0 ` +
      `0 ${width} ${Math.round(height)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<defs><pattern id="quoted" width="6" height="6" ' +
      'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect ' +
      'width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#888888"/></pattern>' +
      `${series.map((_, i) => seriesFill(i).definition ?? '').join('')}</defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  series.forEach((s, i) => {
    const lx = left + (i % legendColumns) * legendItem;
    const ly = 40 + 18 * Math.floor(i / legendColumns);
    const { colour, fill } = seriesFill(i);
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" ` +
        `fill="${s.quoted ? 'url(#quoted)' : fill}" stroke="${colour}"/>`,
    );
    out.push(`<text x="${lx + 17}" y="${ly}">${escapeXml(s.name)}${s.quoted ? ' (quoted)' : ''}</text>`);
  });
  for (let tick = 0; tick <= 100; tick += 20) {
    const ty = y(tick / 100);
    out.push(
      `<line x1="${left}" x2="${width - 12}" y1="${ty}" y2="${ty}" stroke="${tick === 0 ? '#333333' : '#dddddd'}"/>`,
    );
    out.push(`<text x="${left - 6}" y="${ty + 4}" text-anchor="end">${tick}</text>`);
  }
  out.push(
    `<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" ` +
      `text-anchor="middle">${escapeXml(options.yLabel ?? 'accuracy (%)')}</text>`,
  );
  categories.forEach((category, c) => {
    const gx = left + 10 + c * groupWidth;
    series.forEach((s, i) => {
      const value = s.values[c];
      if (value === undefined || Number.isNaN(value)) return;
      const { colour, fill } = seriesFill(i);
      const bx = gx + i * barWidth;
      const error = s.errors?.[c];
      const interval = error === undefined ? '' : ` ± ${(100 * error).toFixed(2)}`;
      out.push(
        `<rect class="bar" x="${bx}" y="${y(value).toFixed(1)}" ` +
          `width="${barWidth - 2}" height="${(y(0) - y(value)).toFixed(1)}" ` +
          `fill="${s.quoted ? 'url(#quoted)' : fill}" ` +
          `stroke="${colour}"><title>` +
          `${escapeXml(`${s.name} · ${category}: ${(100 * value).toFixed(2)}%${interval}`)}</title></rect>`,
      );
      if (error !== undefined && Number.isFinite(error)) {
        const mid = bx + (barWidth - 2) / 2;
        const [low, high] = [y(value - error).toFixed(1), y(value + error).toFixed(1)];
        const cap = Math.max(1, (barWidth - 2) / 2 - 1);
        out.push(
          `<path class="interval" d="M${mid} ${low}V${high}M${mid - cap} ${low}h${2 * cap}M${mid - cap} ${high}` +
            `h${2 * cap}" stroke="#333333" stroke-width="1" fill="none"/>`,
        );
      }
      if (showLabels)
        out.push(
          `<text x="${bx + (barWidth - 2) / 2}" y="${(y(value) - 4).toFixed(1)}" ` +
            `text-anchor="middle" font-size="10">${(100 * value).toFixed(1)}</text>`,
        );
    });
    const cx = gx + (series.length * barWidth) / 2;
    out.push(
      `<text transform="translate(${cx} ${top + plotHeight + 14}) ` +
        `rotate(-45)" text-anchor="end">${escapeXml(category)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The paper's Figures 5–8 for one or several runs: accuracy per corruption (mean over its evaluated
 * severities), one bar per run, plus a final group with each run's mean.
 */
export function corruptionChart(
  runs: readonly RunReport[],
  title = 'CIFAR-10-C accuracy per corruption (mean over severities)',
): string {
  const withCorruptions = runs.filter((r) => r.corruptions);
  const names = ALL_CORRUPTIONS.filter((name) =>
    withCorruptions.some((r) => r.corruptions!.perCorruption[name] !== undefined),
  );
  return groupedBarChart({
    title,
    categories: [...names, 'mean'],
    series: withCorruptions.map((run) => ({
      name: run.name,
      values: [
        ...names.map((name: CorruptionName) => run.corruptions!.perCorruption[name]),
        run.corruptions!.meanBenchmark ?? run.corruptions!.meanEvaluated,
      ],
    })),
    labels: false,
  });
}

/**
 * A Table-1-style chart: clean, FGSM and PGD accuracy of each run (measured here), and optionally
 * the paper's quoted ResNet-18 numbers (hatched) for the methods it reports.
 */
export function comparisonChart(
  runs: readonly RunReport[],
  options: { quoted?: boolean; title?: string } = {},
): string {
  const measured = runs.filter((r) => r.robustness);
  const series: BarSeries[] = measured.map((run) => ({
    name: run.name,
    values: [run.robustness!.clean.accuracy, run.robustness!.fgsm?.accuracy, run.robustness!.pgd?.accuracy],
  }));
  if (options.quoted) {
    for (const q of PAPER_TABLE_1)
      series.push({
        name: `${q.method} (paper, R18)`,
        values: [undefined, q.fgsm.resnet18 / 100, q.pgd.resnet18 / 100],
        quoted: true,
      });
  }
  return groupedBarChart({
    title: options.title ?? 'Clean and robust accuracy',
    categories: ['clean', 'FGSM', 'PGD'],
    series,
  });
}
