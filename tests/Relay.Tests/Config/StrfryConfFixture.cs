namespace Relay.Tests.Config;

/// <summary>
/// Every key and value of strfry.conf as shipped at strfry f8a56a8, in the same layout (blocks,
/// `key = value`, `#` comments), with comments of our own: a stand-in for strfry's file where its
/// repository is not at hand (CI).
/// </summary>
internal static class StrfryConfFixture
{
    public const string Text = """
        ##
        ## strfry.conf keys and values at f8a56a8 (our comments)
        ##

        # LMDB directory
        db = "./strfry-db/"

        dbParams {
            # readers
            maxreaders = 256

            # map size in bytes
            mapsize = 10995116277760

            # read-ahead off?
            noReadAhead = false
        }

        events {
            maxEventSize = 65536

            rejectEventsNewerThanSeconds = 900

            rejectEventsOlderThanSeconds = 94608000

            rejectEphemeralEventsOlderThanSeconds = 60

            ephemeralEventsLifetimeSeconds = 300

            maxNumTags = 2000

            maxTagValSize = 1024
        }

        relay {
            # listen address
            bind = "127.0.0.1"

            port = 7777

            nofiles = 524288

            # lower-case header name
            realIpHeader = ""

            auth {
                enabled = true

                serviceUrl = ""

                restrictedReadKinds = "4, 1059"

                restrictReadToInvolvedPubkey = true
            }

            info {
                name = "strfry default"

                description = "This is a strfry instance."

                pubkey = ""

                self = ""

                contact = ""

                icon = ""

                banner = ""

                privacy = ""

                terms = ""

                # JSON array in a string
                nips = ""
            }

            maxWebsocketPayloadSize = 131072

            maxReqFilterSize = 200

            autoPingSeconds = 55

            enableTcpKeepalive = false

            queryTimesliceBudgetMicroseconds = 10000

            maxFilterLimit = 500

            maxTagsPerFilter = 3

            maxFilterLimitCount = 1000000

            maxSubsPerConnection = 200

            maxPendingOutboundBytes = 33554432

            writePolicy {
                plugin = ""

                timeoutSeconds = 10
            }

            compression {
                enabled = true

                slidingWindow = true
            }

            logging {
                dumpInAll = false

                dumpInEvents = false

                dumpInReqs = false

                dbScanPerf = false

                invalidEvents = true
            }

            numThreads {
                ingester = 3

                reqWorker = 3

                reqMonitor = 3

                negentropy = 2
            }

            negentropy {
                enabled = true

                maxSyncEvents = 1000000
            }

            filterValidation {
                enabled = false

                maxFiltersPerReq = 3

                minFiltersPerReq = 1

                maxKindsPerFilter = 3

                allowedKinds = ""

                requireAuthorOrTag = false
            }
        }
        """;
}
