/** Package version, recorded in run folders and artifacts. Read from package.json (two levels up from both src/core and dist/core). */
export const AEKIT_VERSION: string = (require('../../package.json') as { version: string }).version;
