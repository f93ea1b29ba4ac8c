/** The browser entry point (bundled by build.ts into dist/ui/app.js). */
import { h, render } from 'preact';
import { App } from './views/app.ts';

render(h(App, null), document.getElementById('app')!);
