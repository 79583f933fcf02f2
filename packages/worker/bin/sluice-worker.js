#!/usr/bin/env node
// The sluice-worker program; `npm run build` makes ../dist.
import '../dist/main.js';
