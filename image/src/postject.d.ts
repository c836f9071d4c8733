// postject ships no types; this is the one function of its API we call (dist/api.js).
declare module 'postject' {
  export function inject(
    filename: string,
    resourceName: string,
    resourceData: Buffer,
    options?: { sentinelFuse?: string; overwrite?: boolean; machoSegmentName?: string },
  ): Promise<void>;
}
