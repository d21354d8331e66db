#!/usr/bin/env node
// `node bin/vview.js ...` runs the same entry as bin/vview (bin/vview.cjs).
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./vview.cjs').start(process.argv.slice(2));
