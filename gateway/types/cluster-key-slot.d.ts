/** The Redis Cluster slot library ioredis itself uses (CommonJS, ships no types). */
declare module "cluster-key-slot" {
  /** Slot (0–16383) of a key, honouring `{hash tags}`. */
  export default function generate(key: string | Buffer): number;
}
