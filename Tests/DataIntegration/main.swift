import Collective
import Datasets
import Foundation

// Loads one epoch of an image folder's training split the way training does, under mpirun or
// alone: each rank takes its shard from the distributed sampler and reads it through the
// prefetching loader. Rank 0 prints one line per sample, "SAMPLE index label checksum", with
// every rank's samples, and "LOADED rank count" per rank. A sample that cannot be decoded goes
// to DatasetFailure.handler (by default: the message, then exit status 1).
//
//     tandem-data-check DIR [BATCH]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: tandem-data-check DIR [BATCH]\n".utf8))
    exit(2)
}
let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
let folder = comm.abortOnError { try ImageFolder(directory: arguments[1]) }
let data = folder.train
let sampler = DistributedSampler(count: data.count, rank: comm.rank, worldSize: comm.size, seed: 5)
let indices = sampler.indices(epoch: 0)
let loader = BatchLoader(dataset: data, indices: indices, batchSize: arguments.count > 2 ? Int(arguments[2])! : 4)
var lines: [String] = [], position = 0
while let batch = loader.next() {
    let width = data.inputShape.count
    for row in 0..<batch.count {
        // Position-weighted, so two images with the same pixels in another order differ.
        var checksum = 0.0
        for k in 0..<width { checksum += Double(batch.inputs.ptr[row * width + k]) * Double(k % 97 + 1) }
        let index = indices[position]
        lines.append("SAMPLE \(index) \(batch.targets.int32Pointer[row]) \(String(format: "%.6f", checksum))")
        position += 1
    }
}
let gathered = comm.allgather(lines.joined(separator: "\n"))
let counts = comm.allgather("\(position)")
if comm.rank == 0 {
    for (rank, count) in counts.enumerated() { print("LOADED \(rank) \(count)") }
    print(gathered.joined(separator: "\n"))
}
if let mpi = comm as? MPICommunicator { mpi.finalize() }
