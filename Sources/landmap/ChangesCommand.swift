import ArgumentParser
import Foundation
import Geometry
import Review
import Store

/// `landmap changes list|show|approve|reject`: proposals as a steward reviews them (SPEC §8).
/// Whoever can open the database may decide: the CLI acts as an admin, named `cli:<user>`.
struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "Review proposals: contributors' writes and uploads waiting for a steward.",
        discussion: """
            A contributor token's writes (POST/PUT/DELETE …/items) and uploads (POST /imports) \
            are kept as proposals: nothing is visible until a steward of the layer, or an admin, \
            approves. Approval writes one batch whose history names both the proposer and the \
            approver; a proposal whose features changed since it was made cannot be approved.

            Examples:
              landmap changes list --status pending
              landmap changes show 12
              landmap changes approve 12
              landmap changes reject 13 --reason "sheet 56 was redrawn last month: start from the present parcels"
            """,
        subcommands: [List.self, Show.self, Approve.self, Reject.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List proposals, newest first.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this layer.") var layer: String?
        @Option(help: ArgumentHelp("pending, approved or rejected.", valueName: "status")) var status: String?
        @Option(help: "How many.") var limit = 50

        func run() throws {
            let status = try status.map { s -> ChangeStatus in
                guard let status = ChangeStatus(rawValue: s) else { throw ValidationError("--status must be pending, approved or rejected, not '\(s)'") }
                return status
            }
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
            let changes = try options.openStore().changes(layer: layer, status: status, limit: limit)
            if options.json { printJSON(.array(changes.map(\.summaryJSON))); return }
            guard !changes.isEmpty else { print("no proposals" + (status.map { " \($0.rawValue)" } ?? "")); return }
            for c in changes {
                let decided = c.decidedBy.map { " — \(c.status.rawValue) by \($0)" + (c.reason.map { ": \($0)" } ?? "") } ?? ""
                print("#\(c.id)  \(c.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(c.layer)  \(c.summary)  by \(c.proposer)\(c.unit.isEmpty ? "" : " (\(c.unit))")  \(c.createdAt)\(decided)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a proposal: each feature before and after, what changed since, its QA report.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The proposal's id.") var id: Int64

        func run() throws {
            let store = try options.openStore()
            guard let change = try store.change(id: id) else { throw CLIError("no proposal #\(id) (landmap changes list)") }
            let detail = try Review(store: store).detail(change, hidden: .nothing)
            if options.json { printJSON(detail); return }
            print("#\(change.id) \(change.status.rawValue): \(change.summary)")
            print("layer \(change.layer), proposed by \(change.proposer)\(change.unit.isEmpty ? "" : " (\(change.unit))") at \(change.createdAt)")
            if let by = change.decidedBy { print("\(change.status.rawValue) by \(by) at \(change.decidedAt ?? "?")" + (change.reason.map { ": \($0)" } ?? "")) }
            let features = detail["features"]?.arrayValue ?? []
            for f in features.prefix(50) {
                let id = f["id"]?.stringValue ?? "?", action = f["action"]?.stringValue ?? "?"
                let stale = f["changed_since_proposed"] == .bool(true) ? "  CHANGED SINCE PROPOSED" : ""
                print("  \(action.padding(toLength: 8, withPad: " ", startingAt: 0)) \(id)\(stale)")
                let before = f["before"]?["properties"]?.objectValue ?? [:], after = f["after"]?["properties"]?.objectValue ?? [:]
                for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
                    print("      \(key): \(before[key]?.displayText ?? "—") → \(after[key]?.displayText ?? "—")")
                }
            }
            if features.count > 50 { print("  … and \(features.count - 50) more (--json for all)") }
            let stale = detail["stale"]?.arrayValue ?? []
            if !stale.isEmpty { print("\(stale.count) feature(s) changed since it was proposed: it cannot be approved") }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a pending proposal: one batch naming the proposer and you.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The proposal's id.") var id: Int64
        @Option(help: "The unit you act for, for the audit log.") var unit = ""

        func run() throws {
            let store = try options.openStore()
            guard let change = try store.change(id: id) else { throw CLIError("no proposal #\(id) (landmap changes list)") }
            let summary = try Review(store: store).approve(change, actor: cliActor, unit: unit)
            if options.json {
                printJSON(.object(["id": .integer(id), "batch_id": .integer(summary.batchID), "inserted": .integer(Int64(summary.inserted)),
                                   "updated": .integer(Int64(summary.updated)), "unchanged": .integer(Int64(summary.unchanged)),
                                   "deleted": .integer(Int64(summary.deleted))]))
                return
            }
            print("approved #\(id) (\(change.summary), proposed by \(change.proposer)): batch \(summary.batchID), \(summary.inserted) inserted, \(summary.updated) updated, \(summary.unchanged) unchanged, \(summary.deleted) deleted")
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a pending proposal with a reason; the layer is not touched.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The proposal's id.") var id: Int64
        @Option(help: "Why: the proposer reads it.") var reason: String
        @Option(help: "The unit you act for, for the audit log.") var unit = ""

        func run() throws {
            let reason = self.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !reason.isEmpty else { throw ValidationError("--reason must say why: the proposer reads it") }
            let store = try options.openStore()
            guard let change = try store.change(id: id) else { throw CLIError("no proposal #\(id) (landmap changes list)") }
            _ = try Review(store: store).reject(change, actor: cliActor, unit: unit, reason: reason)
            print("rejected #\(id) (\(change.summary), proposed by \(change.proposer)): \(reason)")
        }
    }
}
