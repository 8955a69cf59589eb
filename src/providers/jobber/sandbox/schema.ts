import {
  buildSchema,
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { MAX_PAGE } from './page-size.ts';

// The slice of Jobber's GraphQL schema that NMC uses, as SDL the sandbox executes with graphql-js
// (queries are really parsed and validated against it). Names follow Jobber's public docs and
// GraphiQL where they show them: `account`, `visits` (Relay connection, `filter.startAt` as a
// date-time range, `nodes` + `pageInfo`), `visitEditSchedule` (start and end as
// LocalDateTimeAttributes: date, time, timezone), `appDisconnect`, and payloads carrying
// `userErrors`. `visitCreate` and `visitDelete` are the sandbox's reading of Jobber's
// `{entity}Create`/`{entity}Delete` convention; their inputs are ours to check against Jobber's
// GraphiQL before going live (README, "Jobber").

export const JOBBER_SDL = /* GraphQL */ `
  scalar EncodedId
  scalar ISO8601DateTime

  type Query {
    account: Account!
    visits(first: Int, after: String, filter: VisitFilterAttributes): VisitConnection!
    visit(id: EncodedId!): Visit
  }

  type Mutation {
    visitCreate(input: VisitCreateInput!): VisitCreatePayload!
    visitEditSchedule(id: EncodedId!, input: VisitEditScheduleInput!): VisitEditPayload!
    visitDelete(id: EncodedId!): VisitDeletePayload!
    appDisconnect: AppDisconnectPayload!
  }

  type Account {
    id: EncodedId!
    name: String!
  }

  enum VisitStatusTypeEnum {
    ACTIVE
    COMPLETED
    LATE
    TODAY
    UPCOMING
    UNSCHEDULED
  }

  type Visit {
    id: EncodedId!
    title: String
    instructions: String
    startAt: ISO8601DateTime
    endAt: ISO8601DateTime
    allDay: Boolean!
    visitStatus: VisitStatusTypeEnum!
    createdAt: ISO8601DateTime!
  }

  type PageInfo {
    endCursor: String
    hasNextPage: Boolean!
  }

  type VisitConnection {
    nodes: [Visit!]!
    pageInfo: PageInfo!
    totalCount: Int
  }

  input Iso8601DateTimeRangeInput {
    after: ISO8601DateTime
    before: ISO8601DateTime
  }

  input VisitFilterAttributes {
    startAt: Iso8601DateTimeRangeInput
  }

  input VisitCreateInput {
    title: String!
    instructions: String
    startAt: ISO8601DateTime!
    endAt: ISO8601DateTime!
  }

  input LocalDateTimeAttributes {
    date: String!
    time: String
    timezone: String!
  }

  input VisitEditScheduleInput {
    startAt: LocalDateTimeAttributes!
    endAt: LocalDateTimeAttributes!
  }

  type UserError {
    message: String!
    path: [String!]!
  }

  type VisitCreatePayload {
    visit: Visit
    userErrors: [UserError!]!
  }

  type VisitEditPayload {
    visit: Visit
    userErrors: [UserError!]!
  }

  type VisitDeletePayload {
    deletedVisitId: EncodedId
    userErrors: [UserError!]!
  }

  type App {
    name: String!
    author: String!
  }

  type AppDisconnectPayload {
    app: App
    userErrors: [UserError!]!
  }
`;

export const jobberSchema = buildSchema(JOBBER_SDL);

function intOf(value: ValueNode | undefined, variables: Record<string, unknown>): number | null {
  if (!value) return null;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' ? v : null;
  }
  return null;
}

/**
 * Jobber's documented query cost: every field 1, `nodes`/`edges`/`node` 0, and a connection's
 * selection multiplied by its `first`/`last` (100 when not given). The documented examples: a
 * `quote(id)` with 7 fields costs 7; `quotes(first: 10)` with 5 fields per node costs 50.
 */
export function requestedQueryCost(document: DocumentNode, variables: Record<string, unknown>): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  const costOf = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        total += costOf(fragments.get(selection.name.value)?.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(selection.selectionSet);
      } else {
        const name = selection.name.value;
        if (name === '__typename') continue;
        const own = ['nodes', 'edges', 'node'].includes(name) ? 0 : 1;
        const size = selection.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
        const inner = costOf(selection.selectionSet);
        const isConnection = selection.selectionSet?.selections.some(
          (s) => s.kind === Kind.FIELD && (s.name.value === 'nodes' || s.name.value === 'edges'),
        );
        // A connection costs its page size times its selection (the field itself is not counted).
        total += isConnection ? (intOf(size?.value, variables) ?? MAX_PAGE) * inner : own + inner;
      }
    }
    return total;
  };
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return costOf(operation?.selectionSet);
}
