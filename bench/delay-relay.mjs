// A TCP relay that holds every chunk for DELAY_MS in each direction, standing in for a WAN link
// between this computer and the SSH server (the kernel here has no netem). Order is kept: all
// chunks wait the same time. Usage: node delay-relay.mjs <delayMs> <targetHost> <targetPort>
// Prints "listening <port>"; exits when stdin closes.
import net from 'node:net';

const [delayText, targetHost, targetPortText] = process.argv.slice(2);
const delay = Number(delayText);
const targetPort = Number(targetPortText);

function delayed(from, to) {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delay));
  from.on('end', () => setTimeout(() => to.end(), delay));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delay + 1));
}

const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true });
  delayed(client, upstream);
  delayed(upstream, client);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
