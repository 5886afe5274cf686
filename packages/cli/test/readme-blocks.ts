import { readFileSync } from 'node:fs';

/**
 * The code blocks of a README marked for tests: a fenced block right after a `<!-- readme-test: <name> -->` line
 * (invisible on npm and GitHub). Returns name → code; a marker without a block is an error, so a README edit cannot
 * silently drop a tested example.
 */
export function readmeBlocks(file: string): Map<string, string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!--\s*readme-test:\s*([\w-]+)\s*-->$/.exec(lines[i].trim());
    if (!marker) continue;
    const open = lines[i + 1]?.match(/^(`{3,})\w*/);
    if (!open) throw new Error(`${file}:${i + 1}: readme-test '${marker[1]}' is not followed by a fenced block`);
    const end = lines.indexOf(open[1], i + 2);
    if (end < 0) throw new Error(`${file}:${i + 2}: unclosed block of readme-test '${marker[1]}'`);
    blocks.set(marker[1], `${lines.slice(i + 2, end).join('\n')}\n`);
  }
  return blocks;
}
