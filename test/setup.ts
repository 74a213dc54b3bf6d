import { ready } from '../src/index.js';

await ready();
