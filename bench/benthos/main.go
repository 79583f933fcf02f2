// The benchmark's peer: Benthos v4.27.0 with only the components the comparison needs
// (kafka_franz input, aws_s3 output, the archive and compress processors, the io and pure
// basics), so that what is built and measured is one small binary and not the full
// distribution. bench/lib/benthos.ts builds it into .cache/benthos-v4.27.0 and runs it.
//
// Benthos's zstd lives in components/pure/extended, which also pulls parquet-go, whose
// linkname into the runtime no longer links with Go 1.26. So zstd is registered here as a
// processor of three lines over the same klauspost encoder and level mapping Benthos's own
// zstd uses (zstd.EncoderLevelFromZstd), compressing each archived batch in one call.
package main

import (
	"context"

	_ "github.com/benthosdev/benthos/v4/public/components/aws"
	_ "github.com/benthosdev/benthos/v4/public/components/io"
	_ "github.com/benthosdev/benthos/v4/public/components/kafka"
	_ "github.com/benthosdev/benthos/v4/public/components/pure"
	"github.com/benthosdev/benthos/v4/public/service"
	"github.com/klauspost/compress/zstd"
)

type zstdCompress struct{ enc *zstd.Encoder }

func (z *zstdCompress) Process(_ context.Context, m *service.Message) (service.MessageBatch, error) {
	b, err := m.AsBytes()
	if err != nil {
		return nil, err
	}
	m.SetBytes(z.enc.EncodeAll(b, nil))
	return service.MessageBatch{m}, nil
}

func (z *zstdCompress) Close(context.Context) error { return z.enc.Close() }

func main() {
	spec := service.NewConfigSpec().
		Summary("zstd at a zstd level, as the compress processor of components/pure/extended does.").
		Field(service.NewIntField("level").Default(3))
	err := service.RegisterProcessor("zstd_compress", spec,
		func(conf *service.ParsedConfig, _ *service.Resources) (service.Processor, error) {
			level, err := conf.FieldInt("level")
			if err != nil {
				return nil, err
			}
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
			if err != nil {
				return nil, err
			}
			return &zstdCompress{enc: enc}, nil
		})
	if err != nil {
		panic(err)
	}
	service.RunCLI(context.Background())
}
