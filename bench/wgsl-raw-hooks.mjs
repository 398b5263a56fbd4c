// Node has no Vite: teach it `import text from './x.wgsl?raw'` so the CLI runs the same modules as the UI.
import { register } from 'node:module';

register('./wgsl-raw-loader.mjs', import.meta.url);
