import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';

/**
 * Builds what the container images run: one ESM file per service (`dist/<service>/main.mjs`) holding
 * the service and every production dependency it imports, so the image needs no package manager
 * and no node_modules tree. Packages with native addons cannot be bundled: they stay external and
 * are copied, with the platform binary the build machine installed, to `dist/<service>/node_modules`.
 * Build on the image's platform (the Dockerfile's build stage does) so that binary matches.
 */

/** Entry point of each deployable service, relative to the repository root. */
export const SERVICE_ENTRIES = {
  ingress: 'services/ingress/src/main.ts',
  worker: 'services/worker/src/main.ts',
} as const;

export type ServiceName = keyof typeof SERVICE_ENTRIES;

/** Packages that load a `.node` binary: kept out of the bundle and shipped as files. */
export const NATIVE_PACKAGES = ['@node-rs/crc32'];

/**
 * Optional peers some dependency loads only when installed (`debug` → `supports-color`, for coloured
 * terminal output). They are installed here only as dev tools' dependencies, so they stay out:
 * the `require` fails at run time and the dependency falls back, as it does in any lean install.
 */
export const OPTIONAL_PEERS_LEFT_OUT = ['supports-color'];

export interface BundleOptions {
  /** Repository root. */
  root: string;
  /** Where `<service>/main.mjs` go. Default `<root>/dist`. */
  outDir?: string;
  /** Which services. Default all of SERVICE_ENTRIES. */
  services?: ServiceName[];
}

export interface BundleReport {
  service: ServiceName;
  /** Absolute path of the bundle. */
  outfile: string;
  bytes: number;
  /** npm packages inside the bundle, `name@version`, sorted. */
  bundledPackages: string[];
  /** Native packages copied next to it, `name@version`, sorted. */
  copiedPackages: string[];
}

// ESM output has no `require`; bundled CommonJS code still calls it for Node built-ins.
const REQUIRE_SHIM =
  "import { createRequire as __bpCreateRequire } from 'node:module'; const require = __bpCreateRequire(import.meta.url);";

export async function bundleServices(o: BundleOptions): Promise<BundleReport[]> {
  const outDir = o.outDir ?? path.join(o.root, 'dist');
  const reports: BundleReport[] = [];
  for (const service of o.services ?? (Object.keys(SERVICE_ENTRIES) as ServiceName[])) {
    reports.push(await bundleService(o.root, outDir, service));
  }
  return reports;
}

async function bundleService(root: string, outDir: string, service: ServiceName): Promise<BundleReport> {
  const dir = path.join(outDir, service);
  await rm(dir, { recursive: true, force: true });
  const outfile = path.join(dir, 'main.mjs');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [SERVICE_ENTRIES[service]],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: REQUIRE_SHIM },
    external: [...NATIVE_PACKAGES, ...OPTIONAL_PEERS_LEFT_OUT].flatMap((p) => [p, `${p}/*`]),
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  const bundled = await packagesOf(root, result.metafile);
  const copied = await copyNativePackages(root, result.metafile, path.join(dir, 'node_modules'));
  const report: BundleReport = {
    service,
    outfile,
    bytes: (await stat(outfile)).size,
    bundledPackages: [...bundled.values()].map((p) => `${p.name}@${p.version}`).sort(),
    copiedPackages: copied.sort(),
  };
  await writeFile(
    path.join(dir, 'packages.json'),
    `${JSON.stringify({ service, bundled: report.bundledPackages, copied: report.copiedPackages }, null, 2)}\n`,
  );
  return report;
}

interface PackageInfo {
  name: string;
  version: string;
  /** Absolute directory (symlinks resolved, as esbuild reports them). */
  dir: string;
}

/** The package that holds each input file of the bundle, keyed by its directory. */
async function packagesOf(root: string, meta: Metafile): Promise<Map<string, PackageInfo>> {
  const found = new Map<string, PackageInfo>();
  for (const input of Object.keys(meta.inputs)) {
    const dir = await packageDirOf(path.resolve(root, input));
    if (!dir || found.has(dir)) continue;
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (pkg.name) found.set(dir, { name: pkg.name, version: pkg.version ?? '0.0.0', dir });
  }
  return found;
}

/** Nearest ancestor directory with a package.json that names a package. */
async function packageDirOf(file: string): Promise<string | undefined> {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name) return dir;
    } catch {
      /* keep climbing */
    }
  }
  return undefined;
}

/**
 * Copies each external native package the bundle imports, resolved from the package that imports
 * it, plus whichever of its (optional) dependencies are installed: that is the platform binary.
 */
async function copyNativePackages(root: string, meta: Metafile, nodeModules: string): Promise<string[]> {
  const copied = new Map<string, string>();
  const copy = async (name: string, fromDir: string): Promise<void> => {
    if (copied.has(name)) return;
    let pkgJson: string;
    try {
      pkgJson = createRequire(path.join(fromDir, 'package.json')).resolve(`${name}/package.json`);
    } catch {
      return; // an optional dependency for another platform
    }
    const src = path.dirname(pkgJson);
    const pkg = JSON.parse(await readFile(pkgJson, 'utf8')) as {
      version: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    copied.set(name, `${name}@${pkg.version}`);
    const dest = path.join(nodeModules, name);
    await mkdir(path.dirname(dest), { recursive: true });
    await cp(src, dest, {
      recursive: true,
      dereference: true,
      filter: (f) => !path.relative(src, f).split(path.sep).includes('node_modules'),
    });
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) await copy(dep, src);
  };
  for (const [input, info] of Object.entries(meta.inputs)) {
    for (const imp of info.imports) {
      if (!imp.external) continue;
      const name = NATIVE_PACKAGES.find((p) => imp.path === p || imp.path.startsWith(`${p}/`));
      if (!name) continue;
      const importer = await packageDirOf(path.resolve(root, input));
      if (importer) await copy(name, importer);
    }
  }
  return [...copied.values()];
}
