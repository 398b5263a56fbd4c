// Entry of peers.html: exposes the study to the driver (Playwright) as window.__peers.run(options).
import { measurePeers, type MeasureOptions } from './measure.ts';
import { oursPeer } from './ours-peer.ts';
import { ortPeer } from './ort-peer.ts';
import { tfjsPeer } from './tfjs-peer.ts';

const progress: string[] = [];
(window as unknown as { __peers: unknown }).__peers = {
  progress,
  run: (o: MeasureOptions) => measurePeers([oursPeer, ortPeer, tfjsPeer], o, (line) => progress.push(line)),
};
