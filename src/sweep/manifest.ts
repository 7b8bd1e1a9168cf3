/** `sweep.json`: the sweep's members and their state, rewritten atomically whenever a member changes state. Its type and reader are the sweep directory's (src/run/layout.ts). */
import { writeFileAtomic } from '../fs/atomic.js';
import { sweepPaths, type Manifest } from '../run/layout.js';

export { SWEEP_MANIFEST as MANIFEST, SWEEP_MANIFEST_VERSION as MANIFEST_VERSION, readManifest, type Manifest, type ManifestMember, type MemberStatus } from '../run/layout.js';

export function writeManifest(sweepDir: string, m: Manifest): void {
  m.updated_at = new Date().toISOString();
  writeFileAtomic(sweepPaths(sweepDir).manifest, JSON.stringify(m, null, 2) + '\n');
}
