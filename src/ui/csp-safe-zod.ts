// Imported first by the entry: zod 4 compiles object parsers with `new Function` unless told not to, and
// even its probe for that is reported as a CSP violation. The site's CSP has no 'unsafe-eval', so zod runs
// jitless (the interpreter; result files are small).
import { z } from 'zod';

z.config({ jitless: true });
