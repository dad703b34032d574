# Objective value = 2
0
1
0
0
0
