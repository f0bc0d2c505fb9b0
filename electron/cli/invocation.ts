// How the person started the command line, so that a message suggesting a command can name it
// the way they can run it: `reclaim` once installed (npm install -g), or `npm run reclaim --`
// from a checkout, where npm names the script it runs in npm_lifecycle_event.

export function invokedAs(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === 'reclaim' ? 'npm run reclaim --' : 'reclaim';
}
