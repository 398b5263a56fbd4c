// `npm run schema`: regenerate docs/bench-result.schema.json from the zod schema in src/bench/result-schema.ts.
import { writeFileSync } from 'node:fs';
import { resultJsonSchema } from '../src/bench/result-schema.ts';

writeFileSync(new URL('../docs/bench-result.schema.json', import.meta.url), JSON.stringify(resultJsonSchema(), null, 2) + '\n');
console.log('wrote docs/bench-result.schema.json');
