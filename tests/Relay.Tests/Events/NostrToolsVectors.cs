namespace Relay.Tests.Events;

/// <summary>
/// Events signed by nostr-tools 2.x (finalizeEvent) with <see cref="SecretKey"/>. "Normalized" is
/// JavaScript's JSON.stringify of the seven fields in NIP-01 order; "Weird" is the same event
/// written with every escape JSON allows (\/, \u00E9, uppercase hex, surrogate pairs, \u0022),
/// reordered fields, whitespace, an escaped key and an unknown nested field.
/// </summary>
internal static class NostrToolsVectors
{
    public const string SecretKey = "7f0b1c5e2d9a3b4c6e8f01234567890abcdef0123456789abcdef0123456789a";
    public const string PubKey = "f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7";
    /// <summary>Between the vectors' created_at and the far end of the default 900 s window.</summary>
    public const long Now = 1700000100;

    /// <summary>The controls vector's content: every C0 control, DEL, U+2028/9, an emoji, '/', 'é', '"', '\'.</summary>
    public static readonly string ControlsContent =
        string.Concat(Enumerable.Range(0, 32).Select(i => (char)i)) + "\u007f\u2028\u2029\U0001F600/é\"\\ü中 end";

    public static readonly string[][] ControlsTags =
    [
        ["e", new string('a', 64)], ["p", PubKey], ["t", "tag\u0000with\u001fcontrols\u007f"],
        ["emoji", "\U0001F600", "\u2028"], ["expiration", "4000000000"], ["d", ""], ["-"],
    ];

    public const string SimpleId = "9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2";
    public const string SimpleSig = "87a86eec8368f44c2722a2c888cc64a7ba34f610f8ac7c251abf51fc44d8c12ce82255f9b6ab87c75142e29c2cea1db2ca57261a7df7cf4b93cbc75f3ebe259f";
    public const string SimpleNormalized = "{\"id\":\"9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2\",\"pubkey\":\"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\",\"created_at\":1700000000,\"kind\":1,\"tags\":[],\"content\":\"hello\",\"sig\":\"87a86eec8368f44c2722a2c888cc64a7ba34f610f8ac7c251abf51fc44d8c12ce82255f9b6ab87c75142e29c2cea1db2ca57261a7df7cf4b93cbc75f3ebe259f\"}";
    public const string SimpleWeird = "{ \"content\" : \"hello\" ,\u000a \"tags\":[  ], \"extra\": {\"nested\": [1, 2, {\"x\": null}]}, \"sig\":\"87a86eec8368f44c2722a2c888cc64a7ba34f610f8ac7c251abf51fc44d8c12ce82255f9b6ab87c75142e29c2cea1db2ca57261a7df7cf4b93cbc75f3ebe259f\", \"kind\": 1, \"created_at\":1700000000, \"pubkey\": \"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\", \"\\u0069d\": \"9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2\" }";
    public const string ControlsId = "bc1d95aeec58c15df69aa93b49ddd425a6f5b10426310772848776396a30e9b8";
    public const string ControlsSig = "824ac084b33f17dea1a5f5b6ced50f2682acf12c686be132f5fb7b049b6feecbd23575fc9052a5ae2d6a2204dd91762503b03e70af8c68fe08c6f1bcce70cd04";
    public const string ControlsNormalized = "{\"id\":\"bc1d95aeec58c15df69aa93b49ddd425a6f5b10426310772848776396a30e9b8\",\"pubkey\":\"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\",\"created_at\":1700000000,\"kind\":1,\"tags\":[[\"e\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],[\"p\",\"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\"],[\"t\",\"tag\\u0000with\\u001fcontrols\u007f\"],[\"emoji\",\"\ud83d\ude00\",\"\u2028\"],[\"expiration\",\"4000000000\"],[\"d\",\"\"],[\"-\"]],\"content\":\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u007f\u2028\u2029\ud83d\ude00/\u00e9\\\"\\\\\u00fc\u4e2d end\",\"sig\":\"824ac084b33f17dea1a5f5b6ced50f2682acf12c686be132f5fb7b049b6feecbd23575fc9052a5ae2d6a2204dd91762503b03e70af8c68fe08c6f1bcce70cd04\"}";
    public const string ControlsWeird = "{ \"content\" : \"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\u0009\\u000A\\u000B\\u000C\\u000D\\u000E\\u000F\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001A\\u001B\\u001C\\u001D\\u001E\\u001F\\u007F\\u2028\\u2029\\uD83D\\uDE00\\/\\u00E9\\u0022\\\\\\u00FC\\u4E2D end\" ,\u000a \"tags\":[ [\"e\" , \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],[\"p\" , \"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\"],[\"t\" , \"tag\\u0000with\\u001Fcontrols\\u007F\"],[\"emoji\" , \"\\uD83D\\uDE00\" , \"\\u2028\"],[\"expiration\" , \"4000000000\"],[\"d\" , \"\"],[\"-\"] ], \"extra\": {\"nested\": [1, 2, {\"x\": null}]}, \"sig\":\"824ac084b33f17dea1a5f5b6ced50f2682acf12c686be132f5fb7b049b6feecbd23575fc9052a5ae2d6a2204dd91762503b03e70af8c68fe08c6f1bcce70cd04\", \"kind\": 1, \"created_at\":1700000000, \"pubkey\": \"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\", \"\\u0069d\": \"bc1d95aeec58c15df69aa93b49ddd425a6f5b10426310772848776396a30e9b8\" }";
    public const string ReplaceableId = "09c07703697d35c093a74c0380761af1dd60af1ba2114d0b8f3652878933d725";
    public const string ReplaceableSig = "9cd085b60c1e82f10be3e664201fe81f342b0723c1837860642b72bbc95ba50e102856851d02efcf6227e8a028a38f04de817f5aefed771ec77314c3f9424312";
    public const string ReplaceableNormalized = "{\"id\":\"09c07703697d35c093a74c0380761af1dd60af1ba2114d0b8f3652878933d725\",\"pubkey\":\"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\",\"created_at\":1700000050,\"kind\":30023,\"tags\":[[\"d\",\"article\"],[\"title\",\"T/\u00e9\"]],\"content\":\"\",\"sig\":\"9cd085b60c1e82f10be3e664201fe81f342b0723c1837860642b72bbc95ba50e102856851d02efcf6227e8a028a38f04de817f5aefed771ec77314c3f9424312\"}";
    public const string ReplaceableWeird = "{ \"content\" : \"\" ,\u000a \"tags\":[ [\"d\" , \"article\"],[\"title\" , \"T\\/\\u00E9\"] ], \"extra\": {\"nested\": [1, 2, {\"x\": null}]}, \"sig\":\"9cd085b60c1e82f10be3e664201fe81f342b0723c1837860642b72bbc95ba50e102856851d02efcf6227e8a028a38f04de817f5aefed771ec77314c3f9424312\", \"kind\": 30023, \"created_at\":1700000050, \"pubkey\": \"f3818f99eb42a053901045dabcb014c777f93cb7f335dece2583bbc326cd17f7\", \"\\u0069d\": \"09c07703697d35c093a74c0380761af1dd60af1ba2114d0b8f3652878933d725\" }";
}
