// The TCP addresses a process listens on, read from /proc: the check that every process of the stack
// binds loopback only (a process listening on 0.0.0.0 or [::] is reachable from the network).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const listenState = '0A';

/** `/proc/net/tcp{,6}` local address (hex, kernel byte order) → printable address. */
function decodeAddress(hex: string): string {
  const [ip = '', port = ''] = hex.split(':');
  const portNumber = parseInt(port, 16);
  if (ip.length === 8) {
    const bytes = (ip.match(/../g) ?? []).map((b) => parseInt(b, 16)).reverse();
    return `${bytes.join('.')}:${portNumber}`;
  }
  // IPv6: four 32-bit words, each in host (little-endian) order.
  const words = (ip.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(''));
  const groups = words.join('').match(/.{4}/g) ?? [];
  const text = groups.map((g) => parseInt(g, 16).toString(16)).join(':');
  const short = text === '0:0:0:0:0:0:0:0' ? '::' : text === '0:0:0:0:0:0:0:1' ? '::1' : text;
  return `[${short}]:${portNumber}`;
}

function listeningByInode(): Map<string, string> {
  const byInode = new Map<string, string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state] = fields;
      const inode = fields[9];
      if (local && state === listenState && inode) byInode.set(inode, decodeAddress(local));
    }
  }
  return byInode;
}

/** Addresses (`127.0.0.1:PORT`, `[::]:PORT`, …) the process listens on. */
export function listeningAddresses(pid: number): string[] {
  const byInode = listeningByInode();
  const addresses: string[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return addresses;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const address = inode ? byInode.get(inode) : undefined;
      if (address) addresses.push(address);
    } catch {
      // closed while we looked
    }
  }
  return addresses.sort();
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address.startsWith('[::1]:');
}
