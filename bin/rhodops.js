#!/usr/bin/env node
// rhodops is written in TypeScript and runs through tsx, so there is no build step between
// `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv);
