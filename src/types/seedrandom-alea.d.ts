// seedrandom's alea generator (tfjs-core's own dependency; no published types for the per-algorithm entry).
declare module 'seedrandom/lib/alea.js' {
  interface AleaState {
    c: number;
    s0: number;
    s1: number;
    s2: number;
  }
  interface Alea {
    (): number;
    state(): AleaState;
  }
  function alea(seed: string, opts: { state: true }): Alea;
  export default alea;
}
