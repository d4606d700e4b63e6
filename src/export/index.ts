// ONNX export of csgnet backbones (the evaluation path), written with onnx-proto's protobuf classes.
export { exportOnnx, readOnnxMetadata, ONNX_OPSET, ONNX_OUTPUTS, ONNX_INPUT_NAME, ONNX_METADATA_VERSION, type OnnxOutput, type OnnxExportOptions, type OnnxModelInfo } from './onnx.js';
export { registerEmitter, registerBackbone, supportedModules, UnsupportedModuleError, EmitContext, type Emitter, type FeaturesEmitter } from './emitters.js';
export type { Value as OnnxValue } from './graph.js';
