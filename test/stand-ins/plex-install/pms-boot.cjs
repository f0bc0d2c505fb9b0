// Node runs this from stdin when started as "/usr/lib/plexmediaserver/Plex Media Server" with no
// arguments (see service-run.mjs). Code from stdin has no location of its own, hence the absolute
// path of the stand-ins as installed on the test server (install.sh).
import('/usr/lib/reclaim-stand-in/plex-install/pms-daemon.mjs').catch((error) => {
  process.stderr.write(`Plex Media Server stand-in failed to load: ${error.stack ?? error}\n`);
  process.exit(1);
});
