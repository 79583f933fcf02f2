#!/usr/bin/env node
// The operator CLI: `npm run build` (or `npm pack` in packages/cli) compiles what it runs.
import { main } from '../dist/cli/src/main.js';

await main();
