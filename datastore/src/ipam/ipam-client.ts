/**
 * Calico-style IPAM over the Datastore boundary: blocks with host affinity, handles per owner,
 * and nothing but compare-and-swap writes, so any number of CNI invocations on any number of
 * nodes can allocate at once and never hand out one address twice.
 *
 * autoAssign refuses at once while the datastore migrate lock is held (datastore-lock.ts) and
 * for a node without a Node resource (libcalico-go reads the Node first); then, per IP version,
 * in libcalico-go's order:
 *
 *   1. the node's own blocks (its BlockAffinity records, one prefix read), lowest CIDR first
 *   2. while short, and IPAMConfiguration.autoAllocateBlocks allows, and the node has fewer
 *      than maxBlocksPerHost blocks: claim an unclaimed block (affinity.ts) and allocate in it.
 *      Candidates are walked from a start derived from the node name, so concurrent ADDs on one
 *      node converge on the same block while different nodes mostly start apart
 *   3. while still short and strictAffinity is off: borrow free addresses from other hosts'
 *      blocks in the same pools. The cluster setting decides, as `calicoctl ipam configure
 *      --strictaffinity` expects; the flag copied into each block records the setting at claim
 *      time and does not veto a later change
 *
 * Allocating in a block, where the datastore commits several writes at once (etcd): read the
 * block and the owner's handle together, then write both in one transaction, each guarded by
 * the resourceVersion read; a lost race re-reads both and retries (bounded, jittered: retry.ts).
 * Elsewhere (the Kubernetes API): read the block, add the addresses to the handle first, then
 * write the block; a lost race re-reads the block; whatever the block could not give is taken
 * off the handle again. The reads autoAssign needs before choosing a block (the lock, pools,
 * Node labels, settings, reservations, the node's affinities) go out together. A request that
 * cannot be met in full gives back what it got and fails with NoAddressesError: a pod with half
 * its addresses is worse than a clear retryable error.
 *
 * releaseByHandle reads the handle to learn its blocks, frees its ordinals in each (CAS), deletes
 * blocks left empty that no host holds, and deletes the handle if nobody touched it meanwhile;
 * with commit, the block writes and the handle's delete are one transaction.
 * releaseAddress frees one address (`calicoctl ipam release`), optionally only while it is
 * still the allocation a report saw.
 */
import { cidrContainsIP, formatCIDR, formatIP, networkOf, parseCIDR, parseIP, type CIDR, type IPVersion, type Resource } from '@cattail/api';
import type { Datastore, WriteOp } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { claimBlock, dropAffinity, listHostAffinities, type HostAffinity } from './affinity.js';
import {
  assignFromBlock,
  assignOrdinal,
  blockCount,
  freeOrdinals,
  hostAffinity,
  ipAt,
  isEmpty,
  nthBlock,
  ordinalOf,
  ordinalsForHandle,
  releaseHandle,
  releaseOrdinals,
} from './block.js';
import { blockDeleteOp, blockUpdateOp, deleteBlock, listBlocks, readBlock, writeBlock } from './block-store.js';
import { assertDatastoreReady } from './datastore-lock.js';
import { AddressInUseError, InvalidIpamRequestError, IpamContentionError, NoAddressesError, NoPoolsError } from './errors.js';
import { adjustHandle, deleteIfUnchanged, handleWriteOp, readHandle } from './handle.js';
import { readIpamSettings, type IpamSettings } from './ipam-config.js';
import { silentIpamLogger, type IpamLogger } from './logger.js';
import { enabledPools, listReservations, nodeLabels, poolOfBlock, reservedIn, selectPools, type UsablePool } from './pools.js';
import { DEFAULT_RETRY, withCasRetry, type RetryPolicy } from './retry.js';

export interface AutoAssignArgs {
  /** The owner: `k8s-pod-network.<containerID>` for a pod. */
  handleId: string;
  node: string;
  num4: number;
  num6: number;
  /** Restrict to these pools (CIDRs or IPPool names, either version); default every automatic pool. */
  pools?: readonly string[];
  /** Stored with the allocation (block attribute `secondary`): namespace, pod, node, timestamp. */
  attrs?: Record<string, string>;
  /** What the address is for: only pools whose `allowedUses` include it serve (default Workload). */
  intendedUse?: 'Workload' | 'Tunnel';
}

export interface AssignedIP {
  /** The address alone: `10.66.0.5`. */
  readonly address: string;
  readonly version: IPVersion;
  /** The block it came from: `10.66.0.0/26`. */
  readonly block: string;
  /** The pool's name, when known. */
  readonly pool?: string;
}

export interface AutoAssignResult {
  ipv4: AssignedIP[];
  ipv6: AssignedIP[];
}

export interface IpamClientOptions {
  logger?: IpamLogger;
  retry?: Partial<RetryPolicy>;
  now?: () => Date;
}

interface Context {
  readonly args: AutoAssignArgs;
  readonly pools: readonly Resource[];
  readonly labels: Record<string, string>;
  readonly settings: IpamSettings;
  readonly reservations: readonly CIDR[];
  /** The node's affinities per version, read with the rest (undefined: not read). */
  readonly affinities: Readonly<Record<IPVersion, readonly HostAffinity[] | undefined>>;
}

export class IpamClient {
  readonly #ds: Datastore;
  readonly #log: IpamLogger;
  readonly #retry: RetryPolicy;
  readonly #now: () => Date;

  constructor(ds: Datastore, options: IpamClientOptions = {}) {
    this.#ds = ds;
    this.#log = options.logger ?? silentIpamLogger;
    this.#retry = Object.freeze({ ...DEFAULT_RETRY, ...options.retry });
    this.#now = options.now ?? (() => new Date());
  }

  async autoAssign(args: AutoAssignArgs): Promise<AutoAssignResult> {
    // Every read that does not depend on another at once: one round trip of latency, not six.
    // The lock check is among them; it still comes before any write.
    const [, pools, labels, settings, reservations, affinities4, affinities6] = await Promise.all([
      assertDatastoreReady(this.#ds),
      this.#ds.list('IPPool').then((r) => r.items),
      nodeLabels(this.#ds, args.node),
      readIpamSettings(this.#ds),
      listReservations(this.#ds),
      args.num4 > 0 ? listHostAffinities(this.#ds, args.node, 4) : undefined,
      args.num6 > 0 ? listHostAffinities(this.#ds, args.node, 6) : undefined,
    ]);
    const ctx: Context = { args, pools, labels, settings, reservations, affinities: { 4: affinities4, 6: affinities6 } };
    const result: AutoAssignResult = { ipv4: [], ipv6: [] };
    try {
      result.ipv4 = await this.#assignVersion(4, args.num4, ctx);
      result.ipv6 = await this.#assignVersion(6, args.num6, ctx);
    } catch (err) {
      await this.#giveBack(args.handleId, [...result.ipv4, ...result.ipv6, ...((err as PartialError).partial ?? [])]);
      throw err;
    }
    return result;
  }

  /** Frees every address the handle holds and deletes the handle. Returns the freed addresses. */
  async releaseByHandle(handleId: string): Promise<string[]> {
    if (this.#ds.commit) return this.#releaseByHandleAtOnce(handleId, this.#ds.commit.bind(this.#ds));
    const released = new Set<string>();
    await withCasRetry(this.#retry, `release handle ${handleId}`, async () => {
      const { counts, resource } = await readHandle(this.#ds, handleId);
      if (!resource) return;
      for (const block of Object.keys(counts)) {
        for (const ip of await this.#releaseInBlock(block, handleId)) released.add(ip);
      }
      await deleteIfUnchanged(this.#ds, handleId, resource.metadata.resourceVersion);
    });
    if (released.size > 0) this.#log.info({ handleId, released: [...released] }, 'released addresses');
    return [...released];
  }

  /**
   * releaseByHandle where the datastore commits several writes at once: the handle, then its
   * blocks (read together), then one commit that frees the ordinals in every block (deleting a
   * block left empty and unclaimed) and deletes the handle. Three round trips for a pod, and no
   * moment where the handle and its blocks disagree. A lost race re-reads everything.
   */
  async #releaseByHandleAtOnce(handleId: string, commit: NonNullable<Datastore['commit']>): Promise<string[]> {
    const released = await withCasRetry(this.#retry, `release handle ${handleId}`, async () => {
      const handle = await readHandle(this.#ds, handleId);
      if (!handle.resource) return [];
      const blocks = await Promise.all(Object.keys(handle.counts).map((text) => readBlock(this.#ds, text)));
      const writes: WriteOp[] = [];
      const freed: string[] = [];
      for (const stored of blocks) {
        if (!stored) continue;
        const r = releaseHandle(stored.block, handleId);
        if (r.ordinals.length === 0) continue;
        writes.push(isEmpty(r.block) && r.block.affinity === undefined ? blockDeleteOp(stored) : blockUpdateOp(r.block, stored));
        for (const o of r.ordinals) freed.push(formatIP(ipAt(stored.cidr, o)));
      }
      writes.push({ op: 'delete', ref: { kind: 'IPAMHandle', name: handleId }, resourceVersion: handle.resource.metadata.resourceVersion ?? '' });
      await commit(writes);
      return freed;
    });
    if (released.length > 0) this.#log.info({ handleId, released }, 'released addresses');
    return released;
  }

  /**
   * Frees one address, as libcalico-go's ReleaseIPs does for `calicoctl ipam release`. With
   * `handleId` and/or `sequenceNumber` the address is freed only while it is still that
   * allocation (a report's view of it): an address released and handed out again since is
   * 'owner-changed' and left alone. The block is written first (CAS), then the owner's handle
   * count lowered: stopped between the two, the handle counts one too many, which the handle
   * invariant allows (handle.ts) and `ipam check` reports as a handle without addresses.
   * `blocks` (the CIDRs of every block) saves a list per call when freeing many addresses.
   */
  async releaseAddress(req: ReleaseAddressRequest, blocks?: readonly string[]): Promise<ReleaseOutcome> {
    const ip = parseIP(req.address);
    if (!ip) throw new InvalidIpamRequestError(`"${req.address}" is not an IP address`);
    const cidrs = blocks ?? (await listBlocks(this.#ds)).map((b) => formatCIDR(b.cidr));
    const text = cidrs.find((c) => {
      const cidr = parseCIDR(c);
      return cidr !== undefined && cidrContainsIP(cidr, ip);
    });
    if (text === undefined) return 'not-assigned';
    let owner: string | undefined;
    const outcome = await withCasRetry(this.#retry, `block ${text}`, async (): Promise<ReleaseOutcome> => {
      const stored = await readBlock(this.#ds, text);
      const ordinal = stored && ordinalOf(stored.cidr, ip);
      if (!stored || ordinal === undefined) return 'not-assigned';
      const index = stored.block.allocations[ordinal];
      if (index === null || index === undefined) return 'not-assigned';
      const holder = stored.block.attributes[index]?.handle_id;
      if (req.handleId !== undefined && holder !== req.handleId) return 'owner-changed';
      if (req.sequenceNumber !== undefined && (stored.block.sequenceNumberForAllocation[String(ordinal)] ?? 0) !== req.sequenceNumber) return 'owner-changed';
      const r = releaseOrdinals(stored.block, [ordinal]);
      if (isEmpty(r.block) && r.block.affinity === undefined) await deleteBlock(this.#ds, text, stored.resourceVersion);
      else await writeBlock(this.#ds, r.block, stored.resourceVersion);
      owner = holder;
      return 'released';
    });
    if (outcome === 'released') {
      if (owner !== undefined) await adjustHandle(this.#ds, this.#retry, owner, text, -1);
      this.#log.info({ address: formatIP(ip), block: text, handleId: owner }, 'released address');
    }
    return outcome;
  }

  /**
   * One given address for `handleId`, as libcalico-go's AssignIP (the CNI plugin's
   * `cni.projectcalico.org/ipAddrs`): it must lie in an enabled pool; its block is claimed for
   * `node` when nobody holds it yet, and otherwise used whoever holds it; an address already
   * allocated, or reserved by an IPReservation, is refused (IPAM_ADDRESS_IN_USE). The handle is
   * counted up first and down again if the block did not take the address.
   */
  async assignIP(args: { address: string; handleId: string; node: string; attrs?: Record<string, string> }): Promise<AssignedIP> {
    await assertDatastoreReady(this.#ds);
    const ip = parseIP(args.address);
    if (!ip) throw new InvalidIpamRequestError(`"${args.address}" is not an IP address`);
    const [pools, settings, reservations] = await Promise.all([
      this.#ds.list('IPPool').then((r) => r.items),
      readIpamSettings(this.#ds),
      listReservations(this.#ds),
      nodeLabels(this.#ds, args.node),
    ]);
    const pool = enabledPools(pools).find((p) => cidrContainsIP(p.cidr, ip));
    if (!pool) throw new InvalidIpamRequestError(`${formatIP(ip)} is not in an enabled IP pool`);
    const cidr = parseCIDR(`${formatIP(ip)}/${pool.blockPrefix}`)!;
    const block = parseCIDR(`${formatIP(networkOf(cidr))}/${pool.blockPrefix}`)!;
    const text = formatCIDR(block);
    const ordinal = ordinalOf(block, ip)!;
    if (reservedIn(block, reservations)?.(ordinal)) throw new AddressInUseError(`${formatIP(ip)} is reserved by an IPReservation`);
    if (!(await readBlock(this.#ds, text))) {
      const outcome = await claimBlock(this.#ds, this.#retry, {
        node: args.node,
        cidr: block,
        strictAffinity: settings.strictAffinity,
        claimTime: this.#now().toISOString(),
      });
      if (outcome === 'claimed') this.#log.info({ node: args.node, block: text }, 'claimed block');
    }
    await adjustHandle(this.#ds, this.#retry, args.handleId, text, 1);
    let taken = false;
    try {
      await withCasRetry(this.#retry, `block ${text}`, async () => {
        const stored = await readBlock(this.#ds, text);
        if (!stored) throw new AddressInUseError(`the block ${text} of ${formatIP(ip)} was deleted meanwhile; try again`);
        const r = assignOrdinal(stored.block, ordinal, args.handleId, args.attrs);
        if (r.ordinals.length === 0) throw new AddressInUseError(`${formatIP(ip)} is already in use`);
        await writeBlock(this.#ds, r.block, stored.resourceVersion);
      });
      taken = true;
    } finally {
      if (!taken) await adjustHandle(this.#ds, this.#retry, args.handleId, text, -1).catch(() => undefined);
    }
    this.#log.info({ handleId: args.handleId, address: formatIP(ip), block: text }, 'assigned the requested address');
    return { address: formatIP(ip), version: ip.version, block: text, pool: pool.name };
  }

  /**
   * Gives up `node`'s claim on one block, as libcalico-go's ReleaseBlockAffinity: an empty block
   * is deleted; a block with allocations keeps them and loses its affinity (any node may then
   * borrow from it and it is deleted once emptied), or, with `requireEmpty`, is left alone
   * ('not-empty'). The node's BlockAffinity record goes in every case but 'not-empty', also when
   * the block is gone or held by another node ('not-held'). Block writes are CAS, retried.
   */
  async releaseBlockAffinity(node: string, cidr: string, opts: { requireEmpty?: boolean } = {}): Promise<'released' | 'not-empty' | 'not-held'> {
    const mine = hostAffinity(node);
    const outcome = await withCasRetry(this.#retry, `block ${cidr}`, async (): Promise<'released' | 'not-empty' | 'not-held'> => {
      const stored = await readBlock(this.#ds, cidr);
      if (stored?.block.affinity !== mine) return 'not-held';
      if (isEmpty(stored.block)) {
        await deleteBlock(this.#ds, cidr, stored.resourceVersion);
        return 'released';
      }
      if (opts.requireEmpty) return 'not-empty';
      const next = structuredClone(stored.block);
      delete next.affinity;
      delete next.affinityClaimTime;
      await writeBlock(this.#ds, next, stored.resourceVersion);
      return 'released';
    });
    if (outcome === 'not-empty') return outcome;
    await dropAffinity(this.#ds, this.#retry, node, cidr);
    this.#log.info({ node, block: cidr, outcome }, 'released block affinity');
    return outcome;
  }

  /** {@link releaseBlockAffinity} for every block `node` holds (both IP versions); returns the blocks released. */
  async releaseHostAffinities(node: string, opts: { requireEmpty?: boolean } = {}): Promise<string[]> {
    const released: string[] = [];
    for (const version of [4, 6] as const) {
      for (const a of await listHostAffinities(this.#ds, node, version)) {
        if ((await this.releaseBlockAffinity(node, a.cidr, opts)) !== 'not-empty') released.push(a.cidr);
      }
    }
    return released;
  }

  /** The addresses the handle holds now, read from its blocks. */
  async ipsByHandle(handleId: string): Promise<AssignedIP[]> {
    const { counts } = await readHandle(this.#ds, handleId);
    const out: AssignedIP[] = [];
    for (const text of Object.keys(counts)) {
      const stored = await readBlock(this.#ds, text);
      if (!stored) continue;
      for (const o of ordinalsForHandle(stored.block, handleId)) {
        out.push({ address: formatIP(ipAt(stored.cidr, o)), version: stored.cidr.version, block: formatCIDR(stored.cidr) });
      }
    }
    return out;
  }

  async #assignVersion(version: IPVersion, num: number, ctx: Context): Promise<AssignedIP[]> {
    if (num <= 0) return [];
    const { args, settings } = ctx;
    const pools = selectPools(ctx.pools, version, ctx.labels, args.pools, this.#log, args.intendedUse);
    if (pools.length === 0) {
      throw new NoPoolsError(
        `no enabled IPv${version} pool applies to node "${args.node}"${args.pools?.length ? ` among the requested ${args.pools.join(', ')}` : ''}: create an IPPool (allowedUses Workload, nodeSelector matching the node) or set assign_ipv${version} to false`,
      );
    }
    const got: AssignedIP[] = [];
    const need = (): number => num - got.length;
    try {
      // 1. The node's own blocks.
      const affinities = [...(ctx.affinities[version] ?? (await listHostAffinities(this.#ds, args.node, version)))];
      let owned = affinities.length;
      for (const a of affinities.sort((x, y) => compareCIDRText(x.cidr, y.cidr))) {
        if (need() === 0) break;
        const cidr = parseCIDR(a.cidr);
        const pool = cidr && poolOfBlock(pools, cidr);
        if (!cidr || !pool) continue;
        got.push(...(await this.#fromBlock(cidr, pool, need(), ctx, 'affine')));
      }

      // 2. Claim new blocks.
      let why = '';
      if (need() > 0 && !settings.autoAllocateBlocks) why = 'autoAllocateBlocks is off';
      if (need() > 0 && settings.autoAllocateBlocks) {
        const blocks = await listBlocks(this.#ds);
        // A concurrent ADD on this node may have claimed a block since we read our affinities:
        // use it before claiming another, so concurrent ADDs share one block.
        for (const b of blocks) {
          if (need() === 0) break;
          const pool = poolOfBlock(pools, b.cidr);
          if (b.block.affinity !== hostAffinity(args.node) || !pool) continue;
          if (freeOrdinals(b.block, reservedIn(b.cidr, ctx.reservations)).length === 0) continue;
          got.push(...(await this.#fromBlock(b.cidr, pool, need(), ctx, 'affine')));
        }
        const existing = new Set(blocks.map((b) => formatCIDR(b.cidr)));
        const candidates = candidateBlocks(pools, args.node, existing);
        let lost = 0;
        while (need() > 0) {
          if (settings.maxBlocksPerHost > 0 && owned >= settings.maxBlocksPerHost) {
            why = `node "${args.node}" holds maxBlocksPerHost (${settings.maxBlocksPerHost}) blocks`;
            break;
          }
          const next = candidates.next();
          if (next.done) {
            why = 'no unclaimed block is left in the pools';
            break;
          }
          const { cidr, pool } = next.value;
          const outcome = await claimBlock(this.#ds, this.#retry, {
            node: args.node,
            cidr,
            strictAffinity: settings.strictAffinity,
            claimTime: this.#now().toISOString(),
          });
          if (outcome === 'taken') {
            if (++lost >= this.#retry.maxAttempts) throw new IpamContentionError(`claiming a block for node "${args.node}"`, lost);
            continue;
          }
          this.#log.info({ node: args.node, block: formatCIDR(cidr) }, 'claimed block');
          owned = (await listHostAffinities(this.#ds, args.node, version)).length;
          got.push(...(await this.#fromBlock(cidr, pool, need(), ctx, 'affine')));
        }
      }

      // 3. Borrow from other hosts' blocks.
      if (need() > 0 && settings.strictAffinity) why += `${why ? '; ' : ''}strictAffinity forbids borrowing from other hosts' blocks`;
      if (need() > 0 && !settings.strictAffinity) {
        const mine = hostAffinity(args.node);
        for (const b of await listBlocks(this.#ds)) {
          if (need() === 0) break;
          if (b.cidr.version !== version || b.block.affinity === mine) continue;
          const pool = poolOfBlock(pools, b.cidr);
          if (!pool || freeOrdinals(b.block, reservedIn(b.cidr, ctx.reservations)).length === 0) continue;
          const borrowed = await this.#fromBlock(b.cidr, pool, need(), ctx, 'borrow');
          if (borrowed.length > 0) this.#log.info({ node: args.node, block: formatCIDR(b.cidr), count: borrowed.length }, 'borrowed addresses');
          got.push(...borrowed);
        }
        if (need() > 0) why += `${why ? '; ' : ''}no other host's block has a free address`;
      }

      if (need() > 0) {
        throw new NoAddressesError(
          `only ${got.length} of ${num} IPv${version} addresses available for node "${args.node}" in ${pools.map((p) => `${p.name} (${formatCIDR(p.cidr)})`).join(', ')}: ${why}`,
          need(),
        );
      }
      return got;
    } catch (err) {
      (err as PartialError).partial = got;
      throw err;
    }
  }

  /**
   * Up to `want` addresses from one block. `affine`: only while the block still belongs to this
   * node; `borrow`: only while it belongs to another (or none).
   */
  async #fromBlock(cidr: CIDR, pool: UsablePool, want: number, ctx: Context, mode: 'affine' | 'borrow'): Promise<AssignedIP[]> {
    const { handleId } = ctx.args;
    const text = formatCIDR(cidr);
    const mine = hostAffinity(ctx.args.node);
    const reserved = reservedIn(cidr, ctx.reservations);
    const usable = (b: { affinity?: string }) => (mode === 'affine' ? b.affinity === mine : b.affinity !== mine);
    const commit = this.#ds.commit?.bind(this.#ds);
    if (commit) {
      // Block and handle read together, written together in one transaction: two round trips,
      // and the handle counts exactly what the block holds (no count to lower on failure).
      const taken = await withCasRetry(this.#retry, `block ${text}`, async () => {
        const [stored, handle] = await Promise.all([readBlock(this.#ds, text), readHandle(this.#ds, handleId)]);
        if (!stored || !usable(stored.block)) return [];
        const r = assignFromBlock(stored.block, want, handleId, ctx.args.attrs, reserved);
        if (r.ordinals.length === 0) return [];
        const handleWrite = handleWriteOp(handleId, handle, { [text]: r.ordinals.length });
        await commit(handleWrite ? [blockUpdateOp(r.block, stored), handleWrite] : [blockUpdateOp(r.block, stored)]);
        return r.ordinals;
      });
      return taken.map((o) => ({ address: formatIP(ipAt(cidr, o)), version: cidr.version, block: text, pool: pool.name }));
    }
    let stored = await readBlock(this.#ds, text);
    if (!stored || !usable(stored.block)) return [];
    const planned = Math.min(want, freeOrdinals(stored.block, reserved).length);
    if (planned === 0) return [];

    await adjustHandle(this.#ds, this.#retry, handleId, text, planned);
    let taken: number[] = [];
    // Lower the handle again only when we know the block did not take the addresses: after an
    // error of unknown outcome (a timeout: the write may have been applied) it stays high, so
    // releaseByHandle still visits this block. Too high is harmless; too low would leak.
    let outcomeKnown = false;
    try {
      taken = await withCasRetry(this.#retry, `block ${text}`, async (attempt) => {
        if (attempt > 0) stored = await readBlock(this.#ds, text);
        if (!stored || !usable(stored.block)) return [];
        const r = assignFromBlock(stored.block, planned, handleId, ctx.args.attrs, reserved);
        if (r.ordinals.length === 0) return [];
        try {
          await writeBlock(this.#ds, r.block, stored.resourceVersion);
        } catch (err) {
          if (err instanceof NotFoundError) return []; // released and deleted under us
          throw err;
        }
        return r.ordinals;
      });
      outcomeKnown = true;
    } catch (err) {
      if (err instanceof IpamContentionError) outcomeKnown = true; // every attempt lost its CAS: nothing written
      throw err;
    } finally {
      if (outcomeKnown && taken.length < planned) {
        await adjustHandle(this.#ds, this.#retry, handleId, text, taken.length - planned).catch((err: unknown) =>
          this.#log.warn({ err, handleId, block: text }, 'could not lower the handle count; it stays too high (harmless)'),
        );
      }
    }
    return taken.map((o) => ({ address: formatIP(ipAt(cidr, o)), version: cidr.version, block: text, pool: pool.name }));
  }

  /** Frees the handle's ordinals in one block; deletes the block if it is left empty and unclaimed. */
  async #releaseInBlock(text: string, handleId: string): Promise<string[]> {
    return withCasRetry(this.#retry, `block ${text}`, async () => {
      const stored = await readBlock(this.#ds, text);
      if (!stored) return [];
      const r = releaseHandle(stored.block, handleId);
      if (r.ordinals.length === 0) return [];
      if (isEmpty(r.block) && r.block.affinity === undefined) await deleteBlock(this.#ds, text, stored.resourceVersion);
      else await writeBlock(this.#ds, r.block, stored.resourceVersion);
      return r.ordinals.map((o) => formatIP(ipAt(stored.cidr, o)));
    });
  }

  /** Undo part of an autoAssign: free exactly these addresses and take them off the handle. */
  async #giveBack(handleId: string, assigned: readonly AssignedIP[]): Promise<void> {
    const byBlock = new Map<string, AssignedIP[]>();
    for (const a of assigned) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a]);
    for (const [text, ips] of byBlock) {
      try {
        const freed = await withCasRetry(this.#retry, `block ${text}`, async () => {
          const stored = await readBlock(this.#ds, text);
          if (!stored) return 0;
          const ords = ips.map((ip) => ordinalOf(stored.cidr, parseCIDR(`${ip.address}/${ip.version === 4 ? 32 : 128}`)!.addr));
          const mineOnly = ords.filter((o): o is number => o !== undefined && ordinalsForHandle(stored.block, handleId).includes(o));
          const r = releaseOrdinals(stored.block, mineOnly);
          if (r.ordinals.length === 0) return 0;
          await writeBlock(this.#ds, r.block, stored.resourceVersion);
          return r.ordinals.length;
        });
        await adjustHandle(this.#ds, this.#retry, handleId, text, -freed);
      } catch (err) {
        this.#log.warn({ err, handleId, block: text }, 'could not give back addresses of a failed request; release the handle to free them');
      }
    }
  }
}

/** One address to free; the optional fields make the release conditional on the allocation. */
export interface ReleaseAddressRequest {
  readonly address: string;
  /** Free only while this handle holds the address. */
  readonly handleId?: string;
  /** Free only while the allocation's sequence number is this one (0 when the block has none). */
  readonly sequenceNumber?: number;
}

/** released; not-assigned: nothing holds it (released already); owner-changed: another allocation holds it now. */
export type ReleaseOutcome = 'released' | 'not-assigned' | 'owner-changed';

interface PartialError {
  partial?: AssignedIP[];
}

function compareCIDRText(a: string, b: string): number {
  const ca = parseCIDR(a);
  const cb = parseCIDR(b);
  if (!ca || !cb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < ca.addr.bytes.length; i++) {
    const d = ca.addr.bytes[i] - (cb.addr.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return ca.prefix - cb.prefix;
}

/** 32-bit FNV-1a: a stable, well-spread start offset per node. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Unclaimed blocks of the pools in the order this node tries them: each pool in turn, from an
 * offset derived from the node name, wrapping around; blocks in `existing` are skipped.
 */
export function* candidateBlocks(pools: readonly UsablePool[], node: string, existing: ReadonlySet<string>): Generator<{ cidr: CIDR; pool: UsablePool }> {
  for (const pool of pools) {
    const n = blockCount(pool.cidr, pool.blockPrefix);
    const start = BigInt(fnv1a(node)) % n;
    // Lazy: the caller stops when satisfied, so a huge (IPv6) pool is never walked far; the
    // skipped blocks are at most existing.size.
    for (let i = 0n; i < n; i++) {
      const text = nthBlock(pool.cidr, pool.blockPrefix, (start + i) % n);
      if (existing.has(text)) continue;
      yield { cidr: parseCIDR(text)!, pool };
    }
  }
}
