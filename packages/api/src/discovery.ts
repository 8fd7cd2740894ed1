import { methodNotAllowed, type ApiRequest, type ApiResponse } from './request.js';

const str = { type: 'string' } as const;
const states = { type: 'string', enum: ['inactive', 'loaded', 'launched'] } as const;
const pageToken = { nextPageToken: { type: 'string', location: 'query' } } as const;
const unitNameParam = { unitName: { type: 'string', location: 'path', required: true } } as const;
const page = (id: string, field: string, item: string) =>
  ({ id, type: 'object', properties: { [field]: { type: 'array', items: { $ref: item } }, nextPageToken: str } }) as const;

/**
 * The API described as a Google discovery document (`discovery#restDescription`), in the shape of
 * fleet's `schema/v1.json`. Like fleet's, `rootUrl` and `baseUrl` hold the placeholder `$ENDPOINT`:
 * the API may be reached over a unix socket or any address, so the document names none and
 * generated clients must be given the endpoint. Ours also describes `GET /state/{unitName}`,
 * `PATCH /machines` and the unit's `reason`.
 */
export const discoveryDocument = {
  kind: 'discovery#restDescription',
  discoveryVersion: 'v1',
  id: 'fleet:v1',
  name: 'schema',
  version: 'v1',
  title: 'fleet API',
  description: 'Manage units and machines of a fleet cluster.',
  documentationLink: 'https://github.com/coreos/fleet/blob/master/Documentation/api-v1.md',
  protocol: 'rest',
  baseUrl: '$ENDPOINT/fleet/v1/',
  basePath: '/fleet/v1/',
  rootUrl: '$ENDPOINT/',
  servicePath: 'fleet/v1/',
  batchPath: 'batch',
  parameters: {},
  auth: {},
  schemas: {
    Machine: {
      id: 'Machine', type: 'object',
      properties: { id: str, primaryIP: str, metadata: { type: 'object', properties: {}, additionalProperties: str } },
    },
    MachinePage: page('MachinePage', 'machines', 'Machine'),
    MachineMetadataOperation: {
      id: 'MachineMetadataOperation', type: 'object',
      properties: {
        op: { type: 'string', enum: ['add', 'remove', 'replace'] },
        path: { type: 'string', description: '/<machine ID>/metadata/<key>' },
        value: { type: 'string', description: 'required by add and replace' },
      },
    },
    UnitOption: { id: 'UnitOption', type: 'object', properties: { section: str, name: str, value: str } },
    Unit: {
      id: 'Unit', type: 'object',
      properties: {
        name: str,
        options: { type: 'array', items: { $ref: 'UnitOption' } },
        desiredState: states,
        currentState: states,
        machineID: str,
        reason: { type: 'string', description: 'why the engine cannot place the unit (absent in fleet)' },
      },
    },
    UnitPage: page('UnitPage', 'units', 'Unit'),
    UnitState: {
      id: 'UnitState', type: 'object',
      properties: { name: str, hash: str, machineID: str, systemdLoadState: str, systemdActiveState: str, systemdSubState: str },
    },
    UnitStatePage: page('UnitStatePage', 'states', 'UnitState'),
  },
  resources: {
    Machines: {
      methods: {
        List: {
          id: 'fleet.Machine.List', description: 'Retrieve a page of Machine objects.',
          httpMethod: 'GET', path: 'machines', parameters: pageToken, response: { $ref: 'MachinePage' },
        },
        Patch: {
          id: 'fleet.Machine.Patch', description: 'Add, replace or remove metadata of machines (all operations or none).',
          httpMethod: 'PATCH', path: 'machines', request: { type: 'array', items: { $ref: 'MachineMetadataOperation' } },
        },
      },
    },
    Units: {
      methods: {
        List: {
          id: 'fleet.Unit.List', description: 'Retrieve a page of Unit objects.',
          httpMethod: 'GET', path: 'units', parameters: pageToken, response: { $ref: 'UnitPage' },
        },
        Get: {
          id: 'fleet.Unit.Get', description: 'Retrieve a single Unit object.',
          httpMethod: 'GET', path: 'units/{unitName}', parameters: unitNameParam, parameterOrder: ['unitName'], response: { $ref: 'Unit' },
        },
        Delete: {
          id: 'fleet.Unit.Delete', description: 'Delete the referenced Unit object.',
          httpMethod: 'DELETE', path: 'units/{unitName}', parameters: unitNameParam, parameterOrder: ['unitName'],
        },
        Set: {
          id: 'fleet.Unit.Set', description: 'Create a Unit, replace its options, or set its desired state.',
          httpMethod: 'PUT', path: 'units/{unitName}', parameters: unitNameParam, parameterOrder: ['unitName'], request: { $ref: 'Unit' },
        },
      },
    },
    UnitState: {
      methods: {
        List: {
          id: 'fleet.UnitState.List', description: 'Retrieve a page of UnitState objects.',
          httpMethod: 'GET', path: 'state',
          parameters: { ...pageToken, unitName: { type: 'string', location: 'query' }, machineID: { type: 'string', location: 'query' } },
          response: { $ref: 'UnitStatePage' },
        },
        Get: {
          id: 'fleet.UnitState.Get', description: 'Retrieve the UnitState of a single unit.',
          httpMethod: 'GET', path: 'state/{unitName}', parameters: unitNameParam, parameterOrder: ['unitName'], response: { $ref: 'UnitState' },
        },
      },
    },
  },
} as const;

/** `/discovery`: GET answers {@link discoveryDocument}. */
export function discovery(req: ApiRequest): ApiResponse {
  return req.method === 'GET' ? { status: 200, body: discoveryDocument } : methodNotAllowed(req, ['GET']);
}
