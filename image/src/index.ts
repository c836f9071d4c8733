export {
  writeOciArchive,
  writeOciLayout,
  writeLayerBlob,
  prebuildLayer,
  verifyOciLayout,
  listBlobs,
  MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  type ImageRunConfig,
  type OciImageOptions,
  type OciImageResult,
  type VerifiedLayout,
  type WrittenLayer,
} from './oci.js';
export { layerEntries, imagePath, type LayerItem, type LayerSpec, type PrebuiltLayer } from './layer.js';
export { tarStream, type TarEntry } from './tar.js';
export { ImageError, ImageInputError, ImageToolMissingError, ImageBuildError, InvalidArchiveError } from './errors.js';
