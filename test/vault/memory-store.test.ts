import { createMemoryStore } from "../../gateway/vault/memory-store.ts";
import { describeVaultStore } from "./store-conformance.ts";

describeVaultStore("memory", async () => ({ fresh: async () => createMemoryStore(), close: async () => {} }));
