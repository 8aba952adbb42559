import protobuf from 'protobufjs';

/*
 * The OTLP metrics wire schema (opentelemetry.proto.collector.metrics.v1 and the messages it uses),
 * as a protobufjs JSON descriptor written from the published field numbers. Field names are the
 * lowerCamelCase names of OTLP's JSON encoding, so protobuf and JSON requests decode to one shape.
 */
const F = (type: string, id: number, rule?: 'repeated') => ({ type, id, ...(rule ? { rule } : {}) });

const descriptor = {
  nested: {
    otlp: {
      nested: {
        ExportMetricsServiceRequest: { fields: { resourceMetrics: F('ResourceMetrics', 1, 'repeated') } },
        ExportMetricsServiceResponse: { fields: { partialSuccess: F('ExportMetricsPartialSuccess', 1) } },
        Status: { fields: { code: F('int32', 1), message: F('string', 2) } },
        ExportMetricsPartialSuccess: {
          fields: { rejectedDataPoints: F('int64', 1), errorMessage: F('string', 2) },
        },
        ResourceMetrics: {
          fields: {
            resource: F('Resource', 1),
            scopeMetrics: F('ScopeMetrics', 2, 'repeated'),
            schemaUrl: F('string', 3),
          },
        },
        Resource: {
          fields: { attributes: F('KeyValue', 1, 'repeated'), droppedAttributesCount: F('uint32', 2) },
        },
        ScopeMetrics: {
          fields: {
            scope: F('InstrumentationScope', 1),
            metrics: F('Metric', 2, 'repeated'),
            schemaUrl: F('string', 3),
          },
        },
        InstrumentationScope: {
          fields: {
            name: F('string', 1),
            version: F('string', 2),
            attributes: F('KeyValue', 3, 'repeated'),
            droppedAttributesCount: F('uint32', 4),
          },
        },
        Metric: {
          oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
          fields: {
            name: F('string', 1),
            description: F('string', 2),
            unit: F('string', 3),
            gauge: F('Gauge', 5),
            sum: F('Sum', 7),
            histogram: F('Histogram', 9),
            exponentialHistogram: F('ExponentialHistogram', 10),
            summary: F('Summary', 11),
            metadata: F('KeyValue', 12, 'repeated'),
          },
        },
        Gauge: { fields: { dataPoints: F('NumberDataPoint', 1, 'repeated') } },
        Sum: {
          fields: {
            dataPoints: F('NumberDataPoint', 1, 'repeated'),
            aggregationTemporality: F('int32', 2),
            isMonotonic: F('bool', 3),
          },
        },
        Histogram: {
          fields: {
            dataPoints: F('HistogramDataPoint', 1, 'repeated'),
            aggregationTemporality: F('int32', 2),
          },
        },
        ExponentialHistogram: {
          fields: {
            dataPoints: F('ExponentialHistogramDataPoint', 1, 'repeated'),
            aggregationTemporality: F('int32', 2),
          },
        },
        Summary: { fields: { dataPoints: F('SummaryDataPoint', 1, 'repeated') } },
        NumberDataPoint: {
          oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
          fields: {
            attributes: F('KeyValue', 7, 'repeated'),
            startTimeUnixNano: F('fixed64', 2),
            timeUnixNano: F('fixed64', 3),
            asDouble: F('double', 4),
            asInt: F('sfixed64', 6),
            exemplars: F('Exemplar', 5, 'repeated'),
            flags: F('uint32', 8),
          },
        },
        HistogramDataPoint: {
          fields: {
            attributes: F('KeyValue', 9, 'repeated'),
            startTimeUnixNano: F('fixed64', 2),
            timeUnixNano: F('fixed64', 3),
            count: F('fixed64', 4),
            sum: F('double', 5),
            bucketCounts: F('fixed64', 6, 'repeated'),
            explicitBounds: F('double', 7, 'repeated'),
            exemplars: F('Exemplar', 8, 'repeated'),
            flags: F('uint32', 10),
            min: F('double', 11),
            max: F('double', 12),
          },
        },
        ExponentialHistogramDataPoint: {
          fields: {
            attributes: F('KeyValue', 1, 'repeated'),
            startTimeUnixNano: F('fixed64', 2),
            timeUnixNano: F('fixed64', 3),
            count: F('fixed64', 4),
            sum: F('double', 5),
            scale: F('sint32', 6),
            zeroCount: F('fixed64', 7),
            flags: F('uint32', 10),
            min: F('double', 12),
            max: F('double', 13),
          },
        },
        SummaryDataPoint: {
          fields: {
            attributes: F('KeyValue', 7, 'repeated'),
            startTimeUnixNano: F('fixed64', 2),
            timeUnixNano: F('fixed64', 3),
            count: F('fixed64', 4),
            sum: F('double', 5),
            quantileValues: F('ValueAtQuantile', 6, 'repeated'),
            flags: F('uint32', 8),
          },
        },
        ValueAtQuantile: { fields: { quantile: F('double', 1), value: F('double', 2) } },
        Exemplar: {
          fields: {
            filteredAttributes: F('KeyValue', 7, 'repeated'),
            timeUnixNano: F('fixed64', 2),
            asDouble: F('double', 3),
            asInt: F('sfixed64', 6),
            spanId: F('bytes', 4),
            traceId: F('bytes', 5),
          },
        },
        KeyValue: { fields: { key: F('string', 1), value: F('AnyValue', 2) } },
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                'stringValue',
                'boolValue',
                'intValue',
                'doubleValue',
                'arrayValue',
                'kvlistValue',
                'bytesValue',
              ],
            },
          },
          fields: {
            stringValue: F('string', 1),
            boolValue: F('bool', 2),
            intValue: F('int64', 3),
            doubleValue: F('double', 4),
            arrayValue: F('ArrayValue', 5),
            kvlistValue: F('KeyValueList', 6),
            bytesValue: F('bytes', 7),
          },
        },
        ArrayValue: { fields: { values: F('AnyValue', 1, 'repeated') } },
        KeyValueList: { fields: { values: F('KeyValue', 1, 'repeated') } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
export const ExportMetricsServiceRequest = root.lookupType('otlp.ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse = root.lookupType('otlp.ExportMetricsServiceResponse');
/** google.rpc.Status: the body of an OTLP error response. */
export const Status = root.lookupType('otlp.Status');
