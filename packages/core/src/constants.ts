// @moco-robust/core/constants — the library's names, importable without loading tfjs (a CLI's `--help`, a config
// validator, a bundler's static choices). The main entry exports the same values.
export { BACKEND_NAMES, BROWSER_BACKEND_NAMES } from './backend/backend-names';
export type { BackendName } from './backend/backend-names';
