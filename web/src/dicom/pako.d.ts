/** The one function of pako (2.1, no bundled types) that the viewer uses. */
declare module "pako" {
  const pako: { inflateRaw(data: Uint8Array): Uint8Array };
  export default pako;
}
