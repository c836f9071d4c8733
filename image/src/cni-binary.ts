/**
 * The CNI plugin as one standalone executable, for the host's /opt/cni/bin where there is no
 * Node: the `@cattail/cni` package bundled into one CommonJS file (esbuild), made a Node 20
 * Single Executable Application (the bundle injected into a copy of this machine's `node` with
 * postject).
 *
 *   @cattail/cni ──esbuild──▶ cattail-cni.cjs ──node --experimental-sea-config──▶ blob
 *   node (stripped copy) ◀──postject NODE_SEA_BLOB── blob      ⇒ cattail-cni (ELF, ~90 MB)
 *
 * Why SEA and not a shell wrapper to a Node inside /opt/cattail: the runtime execs the plugin
 * on the host, where only the host's libc is; a wrapper would need a second tree of files kept
 * in step with the binary. The SEA binary needs the host's glibc (2.28 or later) and
 * libstdc++6, as the `node` it is made of does.
 *
 * The node that writes the blob must be the node the blob is injected into (the blob's format,
 * and the code cache when on, belong to one Node version): both are `nodeBinary`, this process's own by default.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inject } from 'postject';
import { ImageBuildError } from './errors.js';
import { run } from './run.js';

/** Node's SEA fuse: the sentinel postject flips so `node` runs the injected blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * V8's code cache in the blob (`CATTAIL_SEA_CODE_CACHE=1`) starts the plugin a little faster,
 * but V8 writes a different cache on every build, so the binary, the layer and the image digest
 * would change each time; off by default, the build is reproducible byte for byte.
 */
const CODE_CACHE = process.env.CATTAIL_SEA_CODE_CACHE === '1';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

export interface CniBinaryOptions {
  out: string;
  nodeBinary?: string;
  /** Strip the node copy's symbols (binutils `strip`); default true. */
  strip?: boolean;
}

export interface CniBundleOptions {
  outfile: string;
  /**
   * `run`: the file runs the plugin when loaded (the SEA's main script); `export`: it only
   * exports `main`, for cni/bin/cattail-cni.js, which loads it through V8's code cache.
   */
  entry: 'run' | 'export';
}

/**
 * The plugin as one CommonJS file. The entry is `@cattail/cni/main`, not the package index
 * (which re-exports everything eagerly), so what main.ts and plugin.ts import dynamically (the
 * plugin proper, the etcd or the Kubernetes backend) stays lazy: esbuild turns an `import()` of
 * a bundled module into a call that evaluates it on first use.
 */
export async function bundleCni(opts: CniBundleOptions): Promise<{ bytes: number }> {
  const contents = opts.entry === 'run' ? "import { main } from '@cattail/cni/main';\nvoid main();\n" : "export { main } from '@cattail/cni/main';\n";
  const result = await build({
    stdin: { contents, resolveDir: PACKAGE_DIR, sourcefile: 'cattail-cni-entry.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: opts.outfile,
    logLevel: 'silent',
    legalComments: 'inline',
  }).catch((err: unknown) => {
    throw new ImageBuildError(`esbuild could not bundle @cattail/cni: ${(err as Error).message}`, { cause: err });
  });
  // import.meta is empty in a CommonJS bundle: a module that needs it would break at run time.
  const metaWarnings = result.warnings.filter((w) => /import\.meta/.test(w.text));
  if (metaWarnings.length > 0) {
    throw new ImageBuildError(
      `the CNI bundle uses import.meta, which a CommonJS bundle cannot give it:\n${metaWarnings.map((w) => `${w.location?.file}:${w.location?.line} ${w.text}`).join('\n')}`,
    );
  }
  return { bytes: (await stat(opts.outfile)).size };
}

export async function buildCniBinary(opts: CniBinaryOptions): Promise<{ out: string; bundleBytes: number }> {
  const nodeBinary = opts.nodeBinary ?? process.execPath;
  const work = await mkdtemp(join(tmpdir(), 'cattail-cni-sea-'));
  try {
    const bundle = join(work, 'cattail-cni.cjs');
    await bundleCni({ outfile: bundle, entry: 'run' });
    const blob = join(work, 'sea.blob');
    // Paths relative to `work` (the cwd below): the main script's name is recorded in the blob,
    // and a temporary directory's random name would make every binary differ.
    const seaConfig = { main: 'cattail-cni.cjs', output: 'sea.blob', disableExperimentalSEAWarning: true, useCodeCache: CODE_CACHE };
    await writeFile(join(work, 'sea-config.json'), JSON.stringify(seaConfig));
    await run(nodeBinary, ['--experimental-sea-config', join(work, 'sea-config.json')], { cwd: work });
    const partial = join(work, 'cattail-cni');
    await copyFile(nodeBinary, partial);
    await chmod(partial, 0o755);
    if (opts.strip ?? true) await run('strip', ['--strip-all', partial], { pkg: 'binutils' });
    await inject(partial, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE }).catch((err: unknown) => {
      throw new ImageBuildError(`postject could not inject the SEA blob into ${nodeBinary}: ${(err as Error).message}`, { cause: err });
    });
    await mkdir(dirname(opts.out), { recursive: true });
    await copyFile(partial, `${opts.out}.partial`);
    await rename(`${opts.out}.partial`, opts.out);
    return { out: opts.out, bundleBytes: (await readFile(bundle)).length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
