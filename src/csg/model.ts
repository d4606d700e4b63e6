// The one way a run's network is built: the backbone for the data's shape, in the run's memory
// format, and the gate when the strategy is csg. Training and opening a finished run both use it.
import { createModel } from '../models/registry.js';
import type { CsgBackbone } from '../models/types.js';
import { ClassSpecificGate } from './gate.js';
import type { TrainConfig } from './config.js';

export interface DataShape { channels: number; numClasses: number; height: number }

export function createModelAndGate(c: Pick<TrainConfig, 'model' | 'strategy' | 'gateInit' | 'memoryFormat'>, data: DataShape): { model: CsgBackbone; gate: ClassSpecificGate | null } {
  const model = createModel(c.model, { inChannels: data.channels, numClasses: data.numClasses, inputSize: data.height });
  model.to({ memoryFormat: c.memoryFormat });
  const gate = c.strategy === 'csg' ? new ClassSpecificGate(model.numFilters, data.numClasses, c.gateInit) : null;
  return { model, gate };
}
