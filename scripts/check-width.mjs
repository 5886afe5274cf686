#!/usr/bin/env node
// Fails when a tracked source line is wider than the house width (120, as in biome.json). Biome formats code to
// the width but leaves long strings and comments alone; this check covers them. Width is counted in UTF-8 bytes,
// so a line with non-ASCII text (ε, ×, →) has to be shorter still: what fits here fits every tool.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const WIDTH = 120;
const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mts', '*.cts', '*.js', '*.mjs', '*.cjs'], {
  encoding: 'utf8',
})
  .split('\0')
  .filter(Boolean);
const long = [];
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const bytes = Buffer.byteLength(line);
      if (bytes > WIDTH) long.push(`${file}:${i + 1}: ${bytes} bytes`);
    });
}
if (long.length > 0) {
  process.stderr.write(`${long.length} line(s) wider than ${WIDTH} bytes (wrap the string or comment):\n`);
  process.stderr.write(`${long.join('\n')}\n`);
  process.exit(1);
}
