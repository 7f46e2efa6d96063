// The arctangent, two, four or eight lanes at a time (see BackpropKernels.h for why this is C):
// the lanes of ArcTangent.h, which atan2's rule (Arithmetic.c) shares. ArcTangentTests measures
// every build against 80-bit results.

#include "BackpropKernels.h"

#include "Lanes.h"

#include "ArcTangent.h"

DEFINE_ARC_TANGENT_PARTS(2)
DEFINE_ARC_TANGENT_PARTS(4)
DEFINE_ARC_TANGENT_PARTS(8)
DEFINE_KERNEL_ENTRIES(arc_tangents, arc_tangent, 0.0)
