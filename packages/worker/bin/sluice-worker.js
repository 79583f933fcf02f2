#!/usr/bin/env node
// The sluice-worker program: its esbuild bundle, which `npm run build` makes (scripts/bundle.ts).
import '../dist/bundle/main.js';
