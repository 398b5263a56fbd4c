// The UI entry (index.html loads it): zod without eval, global styles and theme, the app shell, the GPU
// session started once for the whole app, and the debug hook.
import './csp-safe-zod.ts';
import { globalStyles } from './shell/global-styles.ts';
import { applyTheme, initialTheme } from './shell/theme-toggle.ts';
import { appSession } from './device/gpu-session.ts';
import { installDebugHook } from './debug-hook.ts';
import './shell/app-shell.ts';

document.adoptedStyleSheets = [...document.adoptedStyleSheets, globalStyles.styleSheet!];
applyTheme(initialTheme());
installDebugHook(appSession);
void appSession.start();
