import { ALL_CORRUPTIONS, loadCifar10C, SEVERITIES, type CorruptionName, type Severity } from '@moco-robust/data';
import type { CorruptionBlock } from '../evaluate-corruptions';

/**
 * The blocks of a folder in the official CIFAR-10-C release layout (`<corruption>.npy`, `labels.npy`),
 * one (corruption, severity) at a time — each read by file offset, so only one block is in memory.
 */
export async function* officialCorruptions(
  dir: string,
  options: { corruptions?: readonly CorruptionName[]; severities?: readonly Severity[] } = {},
): AsyncGenerator<CorruptionBlock> {
  for (const corruption of options.corruptions ?? ALL_CORRUPTIONS) {
    for (const severity of options.severities ?? SEVERITIES) {
      const block = await loadCifar10C(dir, corruption, severity);
      yield { corruption, severity, images: block.images, labels: block.labels, count: block.count };
    }
  }
}
