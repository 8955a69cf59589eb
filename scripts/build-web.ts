import { ensureWebBuild } from '../src/web-build.ts';

// `npm run build:web`: builds web/ into web/dist now (npm start does the same when web/ changed).
await ensureWebBuild((line) => process.stdout.write(`${line}\n`)).then((outcome) => {
  if (outcome === 'fresh') process.stdout.write('the web app build is current\n');
});
