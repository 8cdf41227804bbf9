/** Reads the latent layout and output range our exporter stores in an ONNX file's metadata_props. */
import onnxProto from 'onnx-proto';
import { latentSpecSchema, outputSpecSchema, type LatentSpec, type OutputSpec } from '../checkpoint/manifest.ts';

export function readRhodopsMetadata(model: Uint8Array): { latent?: LatentSpec; output?: OutputSpec } {
  let props: { key?: string | null; value?: string | null }[];
  try {
    props = onnxProto.onnx.ModelProto.decode(model).metadataProps ?? [];
  } catch {
    return {}; // Not decodable here; ONNX Runtime will report the real problem when it loads the file.
  }
  const get = (k: string) => props.find((p) => p.key === k)?.value ?? undefined;
  const parse = <T>(text: string | undefined, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }) => {
    if (!text) return undefined;
    try {
      const r = schema.safeParse(JSON.parse(text));
      return r.success ? r.data : undefined;
    } catch {
      return undefined;
    }
  };
  const latent = parse(get('rhodops.latent'), latentSpecSchema);
  const output = parse(get('rhodops.output'), outputSpecSchema);
  return { ...(latent ? { latent } : {}), ...(output ? { output } : {}) };
}
