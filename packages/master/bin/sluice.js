#!/usr/bin/env node
// The operator CLI. Built by `npm run build`.
import { main } from '../dist/cli/main.js';

await main();
