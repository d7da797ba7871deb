#!/usr/bin/env node
// Launcher for `benchling-packager-ops`: registers tsx's loader, then runs the TypeScript CLI (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
