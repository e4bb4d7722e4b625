#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in dist/cli (compiled by `npm run build`, which `npm ci` runs via `prepare`).
require('../dist/cli/index.js').main(process.argv).catch((error) => {
  // main() already prints AekitErrors cleanly; anything reaching here is a bug worth a stack.
  console.error(error);
  process.exit(1);
});
