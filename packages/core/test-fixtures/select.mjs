// Test fixture: runs selectBackend() from the built package and prints the result as JSON.
import { selectBackend, MocoRobustError } from '@moco-robust/core';

try {
  const selection = await selectBackend(process.argv[2] ? { backend: process.argv[2] } : {});
  process.stdout.write(JSON.stringify({ ok: true, selection }));
} catch (error) {
  process.stdout.write(
    JSON.stringify({
      ok: false,
      isMocoRobustError: MocoRobustError.isInstance(error),
      name: error.name,
      message: error.message,
      backend: error.backend,
    }),
  );
}
