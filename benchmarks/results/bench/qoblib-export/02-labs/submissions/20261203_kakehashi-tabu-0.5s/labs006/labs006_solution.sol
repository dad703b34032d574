# Objective value = 7
0
0
0
1
0
0
